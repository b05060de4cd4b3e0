"""Placements: what happens after a decision. The placement record (SSDA903 fields), the individual placement
agreement signed by both sides, connected-person placements (s22C) and the end of a placement.

`portal.requests` keeps the search (request, matches, referrals, offers); this package starts at the outcome.
"""
