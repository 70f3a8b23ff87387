"""Column names of CRM exports, mapped to Arbiter's fields.

Matching ignores case, spaces and punctuation ("Deal - Value" = "dealvalue"), so both a
CRM's internal property names and its UI's display labels are recognised:

| field | HubSpot | Salesforce | Pipedrive | generic |
| --- | --- | --- | --- | --- |
| deal id | Record ID, hs_object_id, Deal ID | Id, Opportunity ID | Deal - ID | deal_id |
| lead | Associated Contact IDs | ContactId, LeadId, ConvertedFromLeadId | Person - ID | lead_id |
| name | Deal Name, dealname | Name, Opportunity Name | Deal - Title | name |
| amount | Amount, amount | Amount | Deal - Value | amount |
| currency | Currency, deal_currency_code | CurrencyIsoCode | Deal - Currency | currency |
| stage | Deal Stage, dealstage | StageName | Deal - Stage | stage |
| won | Is Closed Won, hs_is_closed_won | IsWon | Deal - Status = won | won |
| closed | Is Deal Closed?, hs_is_closed | IsClosed | Deal - Status ≠ open | closed |
| created | Create Date, createdate | CreatedDate | Deal - Deal created | created_at |
| closed at | Close Date, closedate | CloseDate | Deal - Won time / Lost time | closed_at |

Leads: the id (HubSpot Record ID / hs_object_id, Salesforce Id, Pipedrive Person - ID,
generic lead_id), first seen (Create Date / CreatedDate / Person created / created_at),
origin (Original Source / LeadSource / Source / origin), channel, campaign, landing page,
and optionally ``arm`` and ``assigned_at`` for assignments made elsewhere. Every other
column becomes a typed attribute, except personal data (names, e-mails, phones,
addresses), which is never stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from experiments.csvfile import normalise
from experiments.errors import ImportRefused

__all__ = ["DEAL_FORMATS", "FORMATS", "LEAD_FORMATS", "PII_MARKERS", "Format", "resolve"]

Format = Literal["hubspot", "salesforce", "pipedrive", "generic"]
FORMATS: tuple[Format, ...] = ("hubspot", "salesforce", "pipedrive", "generic")

DEAL_FORMATS: dict[str, dict[str, tuple[str, ...]]] = {
    "hubspot": {
        "id": ("Record ID", "hs_object_id", "Deal ID"),
        "lead": (
            "Associated Contact IDs",
            "Associated Contact ID",
            "associated_contact_id",
            "associatedcontactids",
            "Associated Contact",
            "Contact ID",
        ),
        "name": ("Deal Name", "dealname"),
        "amount": ("Amount", "amount"),
        "currency": ("Currency", "deal_currency_code", "Deal currency code"),
        "stage": ("Deal Stage", "dealstage"),
        "won": ("Is Closed Won", "hs_is_closed_won", "Is closed won"),
        "closed": ("Is Deal Closed?", "hs_is_closed", "Is Closed"),
        "created": ("Create Date", "createdate"),
        "closed_at": ("Close Date", "closedate"),
    },
    "salesforce": {
        "id": ("Id", "Opportunity ID", "Opportunity Id"),
        "lead": (
            "ContactId",
            "Contact ID",
            "LeadId",
            "Lead ID",
            "ConvertedFromLeadId",
            "Converted From Lead ID",
            "Primary Contact ID",
        ),
        "name": ("Name", "Opportunity Name"),
        "amount": ("Amount",),
        "currency": ("CurrencyIsoCode", "Opportunity Currency", "Currency"),
        "stage": ("StageName", "Stage"),
        "won": ("IsWon", "Won"),
        "closed": ("IsClosed", "Closed"),
        "created": ("CreatedDate", "Created Date"),
        "closed_at": ("CloseDate", "Close Date"),
    },
    "pipedrive": {
        "id": ("Deal - ID",),
        "lead": (
            "Person - ID",
            "Deal - Person ID",
            "Deal - Contact person ID",
            "Deal - Lead ID",
            "Lead - ID",
        ),
        "name": ("Deal - Title",),
        "amount": ("Deal - Value",),
        "currency": ("Deal - Currency",),
        "stage": ("Deal - Stage",),
        "status": ("Deal - Status",),
        "created": ("Deal - Deal created", "Deal - Add time", "Deal - Created"),
        "won_time": ("Deal - Won time",),
        "lost_time": ("Deal - Lost time",),
        "closed_at": ("Deal - Close time", "Deal - Closed on"),
    },
    "generic": {
        "id": ("deal_id", "id"),
        "lead": ("lead_id",),
        "name": ("name", "deal_name"),
        "amount": ("amount",),
        "currency": ("currency",),
        "stage": ("stage",),
        "won": ("won",),
        "closed": ("closed",),
        "created": ("created_at", "created"),
        "closed_at": ("closed_at", "close_date"),
    },
}

LEAD_FORMATS: dict[str, dict[str, tuple[str, ...]]] = {
    "hubspot": {
        "id": ("Record ID", "hs_object_id", "Contact ID"),
        "first_seen": ("Create Date", "createdate"),
        "origin": ("Original Source", "hs_analytics_source", "Original Traffic Source"),
        "channel": ("Original Source Drill-Down 1", "hs_analytics_source_data_1", "Channel"),
        "campaign": (
            "Campaign",
            "utm_campaign",
            "First Touch Converting Campaign",
            "hs_analytics_first_touch_converting_campaign",
        ),
        "landing_page": ("First Page Seen", "hs_analytics_first_url", "Landing Page"),
        "arm": ("arm",),
        "assigned_at": ("assigned_at",),
    },
    "salesforce": {
        "id": ("Id", "Lead ID", "Contact ID"),
        "first_seen": ("CreatedDate", "Created Date"),
        "origin": ("LeadSource", "Lead Source"),
        "channel": ("Channel", "Channel__c"),
        "campaign": ("Campaign", "CampaignName", "Campaign Name"),
        "landing_page": ("Landing Page", "Landing_Page__c"),
        "arm": ("arm",),
        "assigned_at": ("assigned_at",),
    },
    "pipedrive": {
        "id": ("Person - ID", "Lead - ID"),
        "first_seen": ("Person - Person created", "Lead - Lead created", "Person - Add time"),
        "origin": ("Person - Source", "Lead - Source", "Person - Source origin"),
        "channel": ("Person - Channel", "Lead - Channel"),
        "campaign": ("Person - Campaign", "Lead - Campaign"),
        "landing_page": ("Person - Landing page",),
        "arm": ("arm",),
        "assigned_at": ("assigned_at",),
    },
    "generic": {
        "id": ("lead_id", "id"),
        "first_seen": ("first_seen", "created_at"),
        "origin": ("origin", "source"),
        "channel": ("channel",),
        "campaign": ("campaign",),
        "landing_page": ("landing_page",),
        "arm": ("arm",),
        "assigned_at": ("assigned_at",),
    },
}

#: Known attribute columns renamed to Arbiter's conventional names.
ATTRIBUTE_ALIASES = {
    normalise(k): v
    for k, v in {
        "HubSpot Score": "lead_score",
        "hubspotscore": "lead_score",
        "Lead Score": "lead_score",
        "Number of Employees": "company_size",
        "numberofemployees": "company_size",
        "NumberOfEmployees": "company_size",
        "Annual Revenue": "past_revenue",
        "annualrevenue": "past_revenue",
        "AnnualRevenue": "past_revenue",
    }.items()
}

PII_MARKERS = (
    "email",
    "mail",
    "phone",
    "mobile",
    "fax",
    "name",
    "address",
    "street",
    "city",
    "zip",
    "postal",
    "ip",
    "linkedin",
    "twitter",
    "skype",
    "birth",
)


def resolve(
    headers: Sequence[str],
    mapping: Mapping[str, tuple[str, ...]],
    required: Sequence[str],
    fmt: str,
) -> dict[str, int]:
    """Column index of each known field; refuses the file if a required one is missing."""
    index = {normalise(h): i for i, h in enumerate(headers)}
    found: dict[str, int] = {}
    for field, aliases in mapping.items():
        for alias in aliases:
            if normalise(alias) in index:
                found[field] = index[normalise(alias)]
                break
    missing = [f for f in required if f not in found]
    if missing:
        wanted = "; ".join(f"{f}: one of {', '.join(mapping[f])}" for f in missing)
        raise ImportRefused(
            f"this does not look like a {fmt} export: no column for {wanted} "
            f"(the header has {', '.join(headers[:12])}{'…' if len(headers) > 12 else ''})"
        )
    return found


def attribute_name(header: str, fmt: str) -> str | None:
    """The attribute a non-field column is stored as, or None for personal data."""
    key = normalise(header)
    if key in ATTRIBUTE_ALIASES:
        return ATTRIBUTE_ALIASES[key]
    label = header
    for prefix in ("Person - ", "Lead - ", "Organization - "):
        if fmt == "pipedrive" and label.startswith(prefix):
            label = label[len(prefix) :]
    slug = "_".join(
        part for part in "".join(c if c.isalnum() else " " for c in label.casefold()).split()
    )
    parts = slug.split("_")
    if (
        not slug
        or any(marker in parts for marker in PII_MARKERS)
        or slug.startswith(("email", "phone", "mobile"))
    ):
        return None
    return slug[:100]
