"""What every benchmark shares: the machine it ran on, and writing its section of docs/performance.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
DOC_HEADER = "# Performance\n\nMeasured numbers only; each section says how to reproduce it.\n"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what platform knows)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def write_section(section: str) -> None:
    """Replace the section whose first line is `section`'s heading ("## ...") up to the next "## ", or append it.

    Every other section of docs/performance.md is left as it is.
    """
    heading = section.splitlines()[0].rstrip()
    text = DOC_PATH.read_text() if DOC_PATH.exists() else DOC_HEADER
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    body = section.rstrip("\n") + "\n"
    if start is None:
        new = text.rstrip("\n") + "\n\n" + body
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        new = "".join(lines[:start]) + body + ("\n" if end < len(lines) else "") + "".join(lines[end:])
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(new)


DEMO_PASSWORD = "demo-portal-2026"


def sign_in(client, email: str) -> None:
    """Sign a test client in as a demo account, as a person does: the password, then the security code from the
    account's authenticator app (a demo account's secret comes from its email: portal/demo/people.py)."""
    import pyotp

    from portal.demo.people import demo_mfa_secret

    response = client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 302, f"{email}: the password was refused ({response.status_code})"
    if response.headers["Location"].endswith("/sign-in/security-code"):
        code = pyotp.TOTP(demo_mfa_secret(email)).now()
        response = client.post("/sign-in/security-code", data={"code": code})
        assert response.status_code == 302, f"{email}: the security code was refused ({response.status_code})"
