"""What a qbXML statusCode or a QuickBooks HRESULT means for the outbox.

Status ranges (Intuit, "Status codes in response messages",
https://developer.intuit.com/app/developer/qbdesktop/docs/develop/exploring-the-quickbooks-desktop-sdk/status-codes-in-response-messages):
0-499 info (data returned), 500-999 warning, 1000+ error. The codes below are the ones the outbox treats
specially; any other error is permanent, as a QuickBooks Online validation Fault is: recorded with
QuickBooks' own message and never retried forever.
"""

from __future__ import annotations

from enum import Enum


class Verdict(Enum):
    OK = "ok"
    NO_MATCH = "no_match"  # a query found nothing (1; 500 when some named objects are missing)
    NAME_IN_USE = "name_in_use"  # 3100: resolve by query, never add a duplicate
    STALE = "stale"  # 3200: EditSequence out of date: re-query, retry once in the session
    BUSY = "busy"  # record or list locked, system busy, or not processed: retry next session
    PERMANENT = "permanent"


BUSY_CODES = frozenset({1000, 1010, 3170, 3175, 3176, 3180, 3231})
HINTS = {
    3120: "a value is not valid for this record in QuickBooks (for example an amount above what is due)",
    3140: "the record refers to a QuickBooks list entry that does not exist (customer, item, terms, class "
    "or sales tax code): create it in QuickBooks or correct the mapping",
    3100: "the name is already used in QuickBooks by a vendor, employee or other name: rename one of them",
}
HRESULTS = {
    "0x80040400": "QuickBooks could not parse the request",
    "0x80040401": "QuickBooks could not be reached",
    "0x80040402": "QuickBooks hit an unexpected error (see qbsdklog.txt on the QuickBooks computer)",
    "0x80040408": "QuickBooks could not open the company file",
    "0x8004040D": "the ticket parameter is invalid",
}


def verdict(code: int, is_query: bool) -> Verdict:
    if code == 1 or (code == 500 and is_query):
        return Verdict.NO_MATCH
    if code < 1000:
        return Verdict.OK
    if code == 3100:
        return Verdict.NAME_IN_USE
    if code == 3200:
        return Verdict.STALE
    if code in BUSY_CODES:
        return Verdict.BUSY
    return Verdict.PERMANENT


def describe_hresult(hresult: str, message: str) -> str:
    known = HRESULTS.get(hresult.strip().upper().replace("0X", "0x"), "QuickBooks reported an error")
    return f"{known} ({hresult}{': ' + message if message else ''})"
