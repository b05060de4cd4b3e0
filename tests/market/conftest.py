"""Fixtures for the commissioner pages: a regional commissioner signed in."""

from __future__ import annotations

import pytest

from tests.factories import create_user


@pytest.fixture
def commissioner(db_session):
    """The regional commissioning hub (no LA)."""
    return create_user("commissioner", la_code=None)


@pytest.fixture
def market(client, auth, commissioner):
    """A test client signed in as the regional commissioner."""
    auth.sign_in(commissioner)
    return client


@pytest.fixture
def exact(app):
    """Show every figure (threshold 0), to check the arithmetic against hand-computed numbers."""
    app.config["SUPPRESSION_THRESHOLD"] = 0
    return app
