from tests.smtp import smtp  # noqa: F401  (the loopback SMTP server fixture)
