"""The pages every UK public-sector service publishes, open to everyone: accessibility, privacy, cookies."""
