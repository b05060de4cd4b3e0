"""The fixed cast of the demo region: who signs in, the organisations they work for, and the word lists the
generator draws names from.

Everything here is invented. Organisation names are made-up combinations, not real companies; people's names
are common British first names and surnames; emails use the reserved `.test` domain (RFC 2606) and phone numbers
come from Ofcom's ranges reserved for drama (0121 496 0000-0999, 07700 900000-900999), so none reaches anyone.
The demo people and their providers do not depend on the seed, so the README's sign-in table is always right.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "demo-portal-2026"
DEMO_DOMAIN = "demo.wmportal.test"
# Demo accounts are enrolled in MFA with fixed, documented secrets (README: demo sign-ins), so the demo and the
# browser tests can sign in: `flask demo mfa-code EMAIL` prints the current code. Never for real accounts.
DEMO_MFA_SALT = "wm-placement-portal-demo-mfa:"


def demo_mfa_secret(email: str) -> str:
    """The TOTP secret of a demo account: base32 of the first 20 bytes of SHA-256(salt + lower-case email)."""
    import base64
    import hashlib

    digest = hashlib.sha256((DEMO_MFA_SALT + email.strip().lower()).encode()).digest()
    return base64.b32encode(digest[:20]).decode()


@dataclass(frozen=True)
class RegionLA:
    """One of the 14 LAs as the demo needs it: child reference prefix and a size weight.

    `weight` is a rough relative size of the LA's children-in-care population (larger LAs get more requests,
    settings and placements); it shapes the demo and is not a statistic to quote.
    """

    code: str
    name: str
    prefix: str
    weight: int
    officer_name: str

    @property
    def slug(self) -> str:
        """officer.<slug>: lower case, spaces and hyphens become dots ("Stoke-on-Trent" -> "stoke.on.trent")."""
        return self.name.lower().replace(" ", ".").replace("-", ".")

    @property
    def officer_email(self) -> str:
        return f"officer.{self.slug}@{DEMO_DOMAIN}"


REGION: tuple[RegionLA, ...] = (
    RegionLA("E08000025", "Birmingham", "BIR", 19, "Priya Sandhu"),
    RegionLA("E08000026", "Coventry", "COV", 8, "Tom Gallagher"),
    RegionLA("E08000027", "Dudley", "DUD", 6, "Rachel Hodgkiss"),
    RegionLA("E08000028", "Sandwell", "SAN", 8, "Imran Bashir"),
    RegionLA("E08000029", "Solihull", "SOL", 5, "Claire Whitehouse"),
    RegionLA("E08000030", "Walsall", "WAL", 6, "Daniel Onyango"),
    RegionLA("E08000031", "Wolverhampton", "WOL", 5, "Harjit Gill"),
    RegionLA("E06000019", "Herefordshire", "HER", 3, "Emma Prosser"),
    RegionLA("E06000051", "Shropshire", "SHR", 5, "Mark Beddoes"),
    RegionLA("E06000021", "Stoke-on-Trent", "STK", 9, "Laura Salt"),
    RegionLA("E06000020", "Telford and Wrekin", "TEL", 4, "Gareth Evans"),
    RegionLA("E10000028", "Staffordshire", "STA", 13, "Sophie Bagnall"),
    RegionLA("E10000031", "Warwickshire", "WAR", 8, "Ben Shakespeare"),
    RegionLA("E10000034", "Worcestershire", "WOR", 9, "Nadia Rahman"),
)
REGION_BY_CODE = {la.code: la for la in REGION}
COVENTRY = "E08000026"
BIRMINGHAM = "E08000025"
SOLIHULL = "E08000029"
SANDWELL = "E08000028"
WARWICKSHIRE = "E10000031"

# Postcode areas and districts just outside the region, where some settings are (as in life: about one in ten
# of a region's provision sits over the border). Any postcode in them that the ONS data puts inside one of the
# 14 LAs is dropped by the generator.
NEIGHBOURING_AREAS = (
    "GL", "DE11", "DE12", "DE13", "DE14", "DE15", "DE6", "DE65", "LE10", "LE17", "LE9", "LE67",
    "OX15", "OX16", "OX17", "NN11", "CW1", "CW2", "CW3", "CW5", "SY15", "SY16", "SY21", "SY22", "LD1", "NP25",
)


# --------------------------------------------------------------------------------------------- demo providers

@dataclass(frozen=True)
class DemoProvider:
    """A provider the demo people work for (or that waits for the administrator)."""

    key: str
    name: str
    kind: str
    provider_code: str
    contract: str
    status: str
    base_la: str
    status_reason: str | None = None
    la_code: str | None = None


DEMO_IFA = DemoProvider("ifa", "Wrenfield Fostering", "ifa", "PR4", "framework", "approved", COVENTRY)
DEMO_HOME = DemoProvider("home", "Amberlea Children's Homes", "childrens_home", "PR4", "framework", "approved",
                         BIRMINGHAM)
DEMO_SUPPORTED = DemoProvider("supported", "Foundry Lane Supported Living", "supported_accommodation", "PR5",
                              "spot", "approved", BIRMINGHAM)
# Providers waiting for approval, so the administrator has something to do, and one already turned down.
PENDING_PROVIDERS = (
    DemoProvider("pending_ifa", "Thistledown Family Fostering", "ifa", "PR5", "spot", "pending", WARWICKSHIRE),
    DemoProvider("pending_home", "Harbourlight Residential Care", "childrens_home", "PR4", "spot", "pending",
                 SANDWELL),
    DemoProvider("pending_supported", "Meridian Steps Housing", "supported_accommodation", "PR4", "spot",
                 "pending", BIRMINGHAM),
)
REJECTED_PROVIDER = DemoProvider(
    "rejected", "Quickstep Care Solutions", "childrens_home", "PR4", "spot", "rejected", SOLIHULL,
    status_reason="The Ofsted registration number given is not for a children's home. Register again with the "
                  "URN on your Ofsted certificate.",
)


def la_fostering_name(la_name: str) -> str:
    """The name of an LA's own fostering service."""
    return f"{la_name} Fostering Service"


# --------------------------------------------------------------------------------------------- demo people

@dataclass(frozen=True)
class DemoPerson:
    """A demo sign-in. `provider` is the DemoProvider key, or "la_fostering:<LA code>" for an LA's own service."""

    email_local: str
    name: str
    role: str
    la_code: str | None = None
    provider: str | None = None
    provider_role: str | None = None
    # A commissioner who may download the generalised Placements Data Standard extract (issue 15 §9).
    extract_access: bool = False

    @property
    def email(self) -> str:
        return f"{self.email_local}@{DEMO_DOMAIN}"


def demo_people() -> list[DemoPerson]:
    """Every demo sign-in, in the order the sign-in table lists them."""
    officers = [DemoPerson(f"officer.{la.slug}", la.officer_name, "officer", la_code=la.code) for la in REGION]
    return [
        *officers,
        DemoPerson("provider.fostering", "Helen Marsh", "provider", provider="ifa", provider_role="admin"),
        DemoPerson("provider.home", "Kwame Asante", "provider", provider="home", provider_role="admin"),
        DemoPerson("provider.home.staff", "Jodie Pritchard", "provider", provider="home", provider_role="staff"),
        DemoPerson("provider.supported", "Sean Doherty", "provider", provider="supported", provider_role="manager"),
        DemoPerson("provider.lafostering", "Amrit Dhillon", "provider", provider=f"la_fostering:{COVENTRY}",
                   provider_role="manager"),
        DemoPerson("commissioner", "Catherine Ashby", "commissioner"),
        DemoPerson("commissioner.birmingham", "Yusuf Malik", "commissioner", la_code=BIRMINGHAM),
        DemoPerson("data.officer", "Priya Raman", "commissioner", extract_access=True),
        DemoPerson("admin", "Gemma Woodward", "admin"),
    ]


# --------------------------------------------------------------------------------------------- word lists

# Organisation names: an invented first word and a kind-specific ending ("Larkspur" + "Fostering").
NAME_WORDS = (
    "Alderbrook", "Ashcombe", "Aspenvale", "Bramblewood", "Briarfield", "Brookmere", "Calderwick",
    "Cedarholt", "Clearwater", "Copperbeech", "Crestmoor", "Dovecote", "Elmstead", "Emberleigh", "Fernhollow",
    "Foxglove", "Gildersome", "Glenmorrow", "Goldcrest", "Hawthorne Vale", "Heathercombe", "Hollybrook",
    "Juniper Lane", "Kestrelmoor", "Lanterntree", "Larkspur", "Linnetfield", "Maplecroft", "Marshbrook",
    "Meadowsweet", "Millbeck", "Moorhen", "Nettlebed", "Northwold", "Oakhurst", "Orchardleigh", "Otterburn Rise",
    "Pebblebrook", "Primrose Hill", "Quarrybank", "Ravensholt", "Redwing", "Riverbend", "Rowanberry", "Saltmarsh",
    "Sandpiper", "Silverbirch", "Skylark", "Sloeberry", "Sorrelby", "Starling", "Stonechat", "Swallowfield",
    "Sweetbriar", "Tansyfield", "Teasel", "Thornbury Gate", "Tidewell", "Timberleigh", "Vetchfield", "Wagtail",
    "Waterlily", "Wayfarer", "Whinfell", "Whitebeam", "Willowmere", "Windrush", "Woodruff", "Yarrowdale",
    "Yewbank", "Zephyr",
)
PROVIDER_ENDINGS = {
    "ifa": ("Fostering", "Family Placements", "Foster Care", "Fostering Partnership"),
    "childrens_home": ("Children's Homes", "Residential Care", "Care Group", "Homes for Children", "Child Care"),
    "supported_accommodation": ("Supported Living", "Housing for Young People", "Pathways", "Futures"),
}
# Names of children's homes and supported accommodation services.
HOUSE_WORDS = (
    "Alder", "Ash", "Beech", "Birch", "Blackthorn", "Cedar", "Chestnut", "Elder", "Elm", "Hazel", "Holly",
    "Hornbeam", "Juniper", "Larch", "Lime", "Linden", "Maple", "Oak", "Poplar", "Rowan", "Sycamore", "Walnut",
    "Willow", "Yew", "Kingfisher", "Heron", "Wren", "Robin", "Finch", "Lark", "Swift", "Curlew", "Brook",
    "Meadow", "Orchard", "Fern", "Heather", "Bramble", "Clover", "Primrose",
)
HOME_ENDINGS = ("House", "Lodge", "Cottage", "View", "Court", "Grange", "Place", "Lane")
SUPPORTED_ENDINGS = ("Court", "Yard", "Mews", "Flats", "Apartments", "House")

GIRLS_NAMES = (
    "Amelia", "Olivia", "Aisha", "Zara", "Maya", "Ava", "Lily", "Isla", "Freya", "Hafsa", "Maryam", "Amira",
    "Ruby", "Chloe", "Jessica", "Sophie", "Leah", "Kacey", "Destiny", "Harleen", "Simran", "Oliwia", "Zuzanna",
    "Ella", "Poppy", "Evie", "Millie", "Nevaeh", "Precious", "Tiana", "Grace", "Mia", "Skye", "Layla", "Esme",
)
BOYS_NAMES = (
    "Oliver", "Muhammad", "Harry", "Jack", "George", "Noah", "Leo", "Charlie", "Alfie", "Jacob", "Ibrahim", "Yusuf",
    "Ayaan", "Harvey", "Kai", "Tyler", "Mason", "Riley", "Jayden", "Reuben", "Kacper", "Jakub", "Dylan", "Logan",
    "Ethan", "Callum", "Arjun", "Gurveer", "Tayo", "Kwame", "Finley", "Theo", "Zain", "Bailey", "Lewis",
)
SURNAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Khan", "Hussain",
    "Ahmed", "Begum", "Ali", "Singh", "Kaur", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Thompson",
    "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Lewis", "Clarke", "Jackson", "Hill",
    "Morris", "Ward", "Turner", "Cooper", "Kowalski", "Nowak", "Campbell", "Mensah", "Okafor", "Bennett", "Price",
    "Shaw", "Riley", "Mitchell", "Lloyd", "Baker", "Mahmood",
)
WOMENS_NAMES = (
    "Margaret", "Susan", "Linda", "Patricia", "Sharon", "Karen", "Nasreen", "Shabana", "Gurpreet", "Dawn",
    "Michelle", "Tracey", "Joanne", "Agnieszka", "Grace",
)
MENS_NAMES = (
    "David", "Paul", "Stephen", "Gary", "Tariq", "Kulwant", "Anthony", "Winston", "Desmond", "Mohammed", "Peter",
    "Lee", "Darren", "Marek", "Samuel",
)
ADULT_FIRST_NAMES = WOMENS_NAMES + MENS_NAMES
# relationship_to_child, with a weight: grandparents and aunts are the commonest kinship carers.
WOMEN_RELATIONSHIPS = frozenset({"grandmother", "aunt"})
MEN_RELATIONSHIPS = frozenset({"grandfather", "uncle"})
RELATIONSHIPS = (
    ("grandmother", 26), ("grandfather", 6), ("grandparents", 10), ("aunt", 20), ("uncle", 7), ("adult sibling", 8),
    ("cousin", 5), ("family friend", 12), ("godparent", 3), ("former neighbour", 3),
)
# Where a connected person was found: Coventry's Family Valued way starts with a family group conference.
CONNECTED_PERSON_SOURCES = ("Family group conference", "Family network meeting", "Social worker", "Child")

LANGUAGES = ("Urdu", "Punjabi", "Polish", "Arabic", "Romanian", "Bengali", "Somali", "Kurdish", "Tigrinya",
             "Pashto", "Gujarati")
RELIGIONS = ("Muslim", "Sikh", "Christian", "Hindu")
ETHNICITIES = (
    ("White British", 52), ("White other", 6), ("Mixed: White and Black Caribbean", 8), ("Mixed: other", 5),
    ("Asian or Asian British: Pakistani", 9), ("Asian or Asian British: Indian", 3),
    ("Asian or Asian British: Bangladeshi", 2), ("Black or Black British: Caribbean", 4),
    ("Black or Black British: African", 6), ("Other ethnic group", 3), ("Not obtained", 2),
)

# Why an officer declined an offer (the provider reads this) and why a provider withdrew one.
DECLINE_REASONS = (
    "Too far from the child's school and family time",
    "The weekly fee is over the agreed budget",
    "The child's plan now prefers a foster placement",
    "The children already living there are not a good match",
    "The start date is too late for this child",
)
WITHDRAW_REASONS = (
    "The place was taken by another child",
    "We cannot staff the additional supervision this child needs",
    "The household's circumstances have changed",
)
# Why providers decline (issue 13 §4): each kind's reasons from the fixed list, weighted as councils describe it
# (children's homes turn down matching with the children living there and risks to them; agencies, no carer free).
PROVIDER_DECLINE_REASONS = {
    "ifa": (("no_vacancy", 40), ("needs_not_met", 20), ("matching", 12), ("location", 12), ("fee", 6),
            ("risk_to_others", 6), ("other", 4)),
    "la_fostering": (("no_vacancy", 50), ("needs_not_met", 18), ("matching", 12), ("location", 12),
                     ("risk_to_others", 4), ("other", 4)),
    "childrens_home": (("matching", 30), ("risk_to_others", 25), ("needs_not_met", 15), ("no_vacancy", 15),
                       ("fee", 5), ("location", 5), ("other", 5)),
    "supported_accommodation": (("needs_not_met", 30), ("no_vacancy", 25), ("location", 15), ("risk_to_others", 15),
                                ("matching", 5), ("fee", 5), ("other", 5)),
}
PROVIDER_DECLINE_OTHER = (
    "The registered manager is on leave and cover cannot agree a new admission this week",
    "We are waiting for a change to our statement of purpose",
    "The carers have a family commitment on the start date",
)
