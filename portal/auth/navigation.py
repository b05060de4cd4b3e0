"""The service navigation each role sees."""

from flask_login import current_user

NAVIGATION = {
    "officer": [("requests.index", "Placement requests"), ("requests.new", "New request"),
                ("placements.index", "Placements")],
    "provider": [
        ("providers.home", "Referrals"),
        ("providers.offers", "Offers"),
        ("providers.dashboard", "Dashboard"),
        ("providers.settings", "Settings"),
        ("providers.vacancies", "Vacancies"),
        ("providers.organisation", "Organisation"),
        ("placements.index", "Placements"),
    ],
    "commissioner": [("market.home", "Market overview")],
    "admin": [("admin.home", "Providers"), ("admin.people", "People"), ("allocation.index", "Allocation"),
              ("admin.audit", "Audit"), ("admin.notifications", "Emails")],
}
# Only a provider's own administrators manage its people (issue 5 §1).
PROVIDER_ADMIN_NAVIGATION = [("providers.users", "Users")]


def nav_items() -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    items = NAVIGATION.get(current_user.role, [])
    if current_user.role == "provider" and current_user.provider_role == "admin":
        items = items + PROVIDER_ADMIN_NAVIGATION
    return items
