"""The service navigation each role sees."""

from flask_login import current_user

NAVIGATION = {
    "officer": [("requests.index", "Placement requests"), ("requests.new", "New request")],
    "provider": [("providers.home", "Referrals"), ("providers.vacancies", "Vacancies")],
    "commissioner": [("market.home", "Market overview")],
    "admin": [("admin.home", "Providers to approve"), ("allocation.index", "Regional allocation")],
}


def nav_items() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    return NAVIGATION.get(current_user.role, [])
