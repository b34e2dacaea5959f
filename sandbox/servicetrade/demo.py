"""The demo company: Summit Fire & Mechanical, a fire-protection and mechanical contractor in the NC Triangle.

Deterministic: the same ids, numbers and times on every call, relative to DEMO_NOW (Friday 2025-11-14,
12:00 Eastern). 8 customers with 1-3 locations (hospital, school district and church are tax exempt; the
rest are taxable in one of three county tax groups), 6 technicians (all but Jordan Hale have a payroll
employee number, held as an external id on the user), 25 jobs, 17 invoices in every status (six
`pending_accounting`), two weeks of clock events with one technician still clocked in, and job items: parts
bought on purchase orders (`source.value = "PO ..."`) and direct costs without one.
"""

# ruff: noqa: E501 - the data tables below keep one record per line
from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from sandbox.servicetrade.store import Login, OAuthClient, Row, Store, day_stamp

DEMO_CLIENT_ID = "st-demo-ledgerbridge"
DEMO_CLIENT_SECRET = "st-demo-secret-not-for-production"  # noqa: S105 - a public demo credential
DEMO_USERNAME = "integration@summitfire.example"
DEMO_PASSWORD = "summit-demo-2025"  # noqa: S105 - a public demo credential
DEMO_TECH_USERNAME = "mreyes@summitfire.example"  # a technician (not an admin: webhook creation is refused)
DEMO_TECH_PASSWORD = "tech-demo-2025"  # noqa: S105 - a public demo credential
PAYROLL_SYSTEM = "payroll"  # external-system name holding technicians' employee numbers
ACCOUNTING_SYSTEM = "qbo"  # external-system name of already-synced records
DEMO_TIMEZONE = timezone(timedelta(hours=-5), "EST")  # the whole demo fortnight is in EST
DEMO_DATE = date(2025, 11, 14)
DEMO_NOW = datetime.combine(DEMO_DATE, time(12), tzinfo=DEMO_TIMEZONE).astimezone(UTC)
CREATED = int((DEMO_NOW - timedelta(days=400)).timestamp())

# fmt: off
TAX_GROUPS = [("Durham County", "NC-DUR", "0.075"), ("Wake County", "NC-WAK", "0.0725"), ("Orange County", "NC-ORA", "0.075")]
SERVICE_LINES = [("Fire Sprinkler", "SPR"), ("Fire Extinguisher", "EXT"), ("Fire Alarm", "FA"), ("HVAC", "HVAC")]
# code, name, type, price, cost, service line
LIB_ITEMS = [
    ("INSP-SPR", "Annual sprinkler system inspection", "service", "425.00", "0.00", "SPR"),
    ("INSP-EXT", "Fire extinguisher annual inspection (each)", "service", "12.50", "0.00", "EXT"),
    ("INSP-FA", "Fire alarm system inspection", "service", "375.00", "0.00", "FA"),
    ("INSP-HOOD", "Kitchen hood suppression inspection", "service", "195.00", "0.00", "EXT"),
    ("LAB-REG", "Technician labor, regular hours", "labor", "115.00", "42.00", None),
    ("LAB-OT", "Technician labor, overtime", "labor", "172.50", "63.00", None),
    ("TRIP", "Trip charge", "service", "85.00", "0.00", None),
    ("HEAD-155P", 'Sprinkler head, 155°F pendent, 1/2" NPT', "part", "18.75", "6.40", "SPR"),
    ("HEAD-ESFR", "ESFR sprinkler head K25.2", "part", "96.00", "42.80", "SPR"),
    ("EXT-5ABC", "Fire extinguisher, 5 lb ABC dry chemical", "part", "64.99", "31.20", "EXT"),
    ("EXT-RECH", "Extinguisher recharge, ABC", "service", "28.00", "9.50", "EXT"),
    ("SMK-DET", "Photoelectric smoke detector", "part", "89.00", "38.75", "FA"),
    ("FILT-20252", "Pleated air filter 20x25x2 MERV 11", "part", "14.25", "5.10", "HVAC"),
    ("BELT-A42", "V-belt A42", "part", "22.40", "8.95", "HVAC"),
    ("R410A-LB", "Refrigerant R-410A (per lb)", "part", "38.00", "14.60", "HVAC"),
    ("CAP-45-5", "Dual run capacitor 45/5 MFD", "part", "54.00", "17.25", "HVAC"),
    ("PM-RTU", "Rooftop unit preventative maintenance", "service", "260.00", "0.00", "HVAC"),
    ("RENT-LIFT", "Scissor lift rental (daily)", "equipment", "320.00", "240.00", None),
    ("RENT-PUMP", "Trash pump rental (daily)", "equipment", "230.00", "175.00", None),
    ("PERMIT", "Permit fee (pass-through)", "other", "95.00", "95.00", None),
]
# name, ref, phone, email, street, city, state, zip, terms, customer?, vendor?
COMPANIES = [
    ("Riverside Medical Center", "CUST-1001", "919-555-0110", "ap@riversidemed.example", "1200 Riverside Pkwy", "Durham", "27707", 45),
    ("Harbor Point Apartments", "CUST-1002", "919-555-0120", "manager@harborpoint.example", "300 Harbor Point Dr", "Raleigh", "27606", 30),
    ("Crestview Unified School District", "CUST-1003", "919-555-0130", "facilities@crestview.example", "101 Education Way", "Chapel Hill", "27514", 45),
    ("Northgate Shopping Plaza", "CUST-1004", "919-555-0140", "ops@northgateplaza.example", "2800 Northgate Blvd", "Durham", "27704", 30),
    ("Bluewater Hotel Group", "CUST-1005", "919-555-0150", "payables@bluewaterhotels.example", "415 W Main St", "Durham", "27701", 30),
    ("Ironworks Brewing Co.", "CUST-1006", "919-555-0160", "owner@ironworksbrewing.example", "88 Foundry St", "Hillsborough", "27278", 15),
    ("St. Anne's Parish", "CUST-1007", "919-555-0170", "office@stannes.example", "19 Chapel Ln", "Durham", "27705", 30),
    ("Pinecrest Logistics, LLC", "CUST-1008", "919-555-0180", "ap@pinecrestlogistics.example", "6100 Commerce Pkwy", "Garner", "27529", 30),
]
VENDORS = [
    ("Piedmont Fire Supply", "VEND-2001", "919-555-0210", "orders@piedmontfire.example", "77 Hydrant Way", "Durham", "27713"),
    ("Carolina HVAC Distributors", "VEND-2002", "919-555-0220", "sales@carolinahvac.example", "5400 Supply Ct", "Raleigh", "27616"),
    ("Triangle Equipment Rental", "VEND-2003", "919-555-0230", "rent@triangleequip.example", "900 Rental Rd", "Morrisville", "27560"),
]
# key, customer index, name, store number, street, city, zip, taxable tax group code (None = exempt), lat, lon
LOCATIONS = [
    ("RMC-MAIN", 0, "Riverside Medical Center - Main Campus", "", "1200 Riverside Pkwy", "Durham", "27707", None, "35.9940", "-78.8986"),
    ("RMC-OUT", 0, "Riverside Outpatient Pavilion", "", "1450 Riverside Pkwy", "Durham", "27707", None, "35.9952", "-78.8961"),
    ("HP-A", 1, "Harbor Point - Building A", "A", "300 Harbor Point Dr", "Raleigh", "27606", "NC-WAK", "35.7872", "-78.6811"),
    ("HP-CLUB", 1, "Harbor Point - Clubhouse", "CH", "310 Harbor Point Dr", "Raleigh", "27606", "NC-WAK", "35.7868", "-78.6820"),
    ("CV-HS", 2, "Crestview High School", "HS-01", "5100 Crestview Rd", "Chapel Hill", "27516", None, "35.9132", "-79.0558"),
    ("CV-LIN", 2, "Lincoln Elementary School", "ES-04", "220 Lincoln St", "Carrboro", "27510", None, "35.9101", "-79.0753"),
    ("CV-DO", 2, "District Administration Office", "DO", "101 Education Way", "Chapel Hill", "27514", None, "35.9270", "-79.0360"),
    ("NG", 3, "Northgate Shopping Plaza", "", "2800 Northgate Blvd", "Durham", "27704", "NC-DUR", "36.0220", "-78.9030"),
    ("BW-DT", 4, "Bluewater Inn Downtown", "112", "415 W Main St", "Durham", "27701", "NC-DUR", "35.9968", "-78.9066"),
    ("BW-RDU", 4, "Bluewater Suites RDU Airport", "118", "7800 Airport Blvd", "Morrisville", "27560", "NC-WAK", "35.8490", "-78.8270"),
    ("IW", 5, "Ironworks Brewing Taproom", "", "88 Foundry St", "Hillsborough", "27278", "NC-ORA", "36.0752", "-79.0997"),
    ("SA", 6, "St. Anne's Church & Parish Hall", "", "19 Chapel Ln", "Durham", "27705", None, "36.0095", "-78.9390"),
    ("PL-WHA", 7, "Pinecrest Warehouse A", "WH-A", "6100 Commerce Pkwy", "Garner", "27529", "NC-WAK", "35.7110", "-78.6140"),
    ("PL-DC", 7, "Pinecrest Distribution Center", "DC-1", "4100 Industrial Dr", "Durham", "27703", "NC-DUR", "35.9560", "-78.8450"),
]
# key, first, last, employee number ("" = none), clock source
TECHS = [
    ("reyes", "Marcus", "Reyes", "E1001", "mobile"),
    ("brooks", "Tanya", "Brooks", "E1002", "mobile"),
    ("ortega", "Luis", "Ortega", "E1003", "mobile"),
    ("oneil", "Kevin", "O'Neil", "E1004", "mobile"),
    ("natarajan", "Priya", "Natarajan", "E1005", "mobile"),
    ("hale", "Jordan", "Hale", "", "ivr"),  # deliberately without an employee number
]
# number, location, type, status, day offset, start hour (local), hours, techs, description, customer PO
JOBS = [
    (24101, "RMC-MAIN", "inspection", "completed", -13, 8, 4, ["reyes", "brooks"], "Annual NFPA 25 sprinkler inspection - main campus", "RMC-PO-88123"),
    (24102, "RMC-OUT", "inspection", "completed", -13, 13, 2, ["brooks"], "Annual fire extinguisher inspection (42 units)", "RMC-PO-88123"),
    (24103, "HP-A", "repair", "completed", -12, 9, 3, ["ortega"], "Replace 6 corroded sprinkler heads in parking garage", ""),
    (24104, "CV-HS", "inspection", "completed", -12, 7, 6, ["reyes", "hale"], "Fire alarm annual inspection and test", "CUSD-2025-0412"),
    (24105, "NG", "preventative_maintenance", "completed", -11, 8, 5, ["natarajan"], "Quarterly RTU PM - 4 units", "NG-7781"),
    (24106, "BW-DT", "service_call", "completed", -11, 14, 2, ["oneil"], "No heat in guest rooms, 3rd floor", ""),
    (24107, "IW", "repair", "completed", -10, 10, 4, ["oneil", "natarajan"], "Walk-in cooler condenser fan motor replacement", ""),
    (24108, "SA", "inspection", "completed", -10, 9, 2, ["brooks"], "Extinguisher inspection and recharge", ""),
    (24109, "PL-WHA", "inspection", "completed", -9, 7, 5, ["reyes", "ortega"], "Quarterly sprinkler inspection - ESFR system", "PL-45521"),
    (24110, "PL-DC", "emergency_service_call", "completed", -8, 19, 3, ["ortega"], "Sprinkler main break at dock door 14", "PL-45590"),
    (24111, "CV-LIN", "inspection", "completed", -8, 8, 3, ["hale"], "Fire extinguisher annual inspection", "CUSD-2025-0413"),
    (24112, "HP-CLUB", "preventative_maintenance", "completed", -7, 9, 3, ["natarajan"], "Semi-annual HVAC PM - clubhouse", ""),
    (24113, "BW-RDU", "inspection", "completed", -6, 8, 4, ["reyes"], "Annual sprinkler inspection", "BHG-3390"),
    (24114, "CV-DO", "repair", "completed", -6, 13, 2, ["hale"], "Replace failed smoke detectors (3)", "CUSD-2025-0420"),
    (24115, "RMC-MAIN", "repair", "completed", -5, 8, 5, ["ortega", "brooks"], "Replace dry pipe valve trim", "RMC-PO-88201"),
    (24116, "NG", "service_call", "completed", -4, 10, 2, ["oneil"], "RTU-3 short cycling", "NG-7790"),
    (24117, "IW", "inspection", "completed", -3, 9, 2, ["brooks"], "Kitchen hood suppression semi-annual inspection", ""),
    (24118, "PL-WHA", "repair", "pending_invoice", -2, 8, 6, ["reyes", "hale"], "Replace 12 ESFR heads damaged by forklift", "PL-45612"),
    (24119, "BW-DT", "preventative_maintenance", "pending_invoice", -1, 8, 4, ["natarajan"], "Boiler PM and combustion analysis", ""),
    (24120, "HP-A", "inspection", "scheduled", 0, 8, 8, ["ortega"], "Annual fire sprinkler inspection - Building A", ""),
    (24121, "CV-HS", "repair", "scheduled", 3, 10, 2, ["hale"], "Repair pull station in gym corridor", "CUSD-2025-0431"),
    (24122, "RMC-OUT", "preventative_maintenance", "scheduled", 5, 7, 3, ["natarajan"], "AHU-2 filter change and belt inspection", "RMC-PO-88240"),
    (24123, "SA", "installation", "new", 12, 8, 0, [], "Quote: install monitored fire alarm in parish hall", ""),
    (24124, "PL-DC", "inspection", "scheduled", 7, 8, 4, ["reyes"], "Annual fire pump test", "PL-45700"),
    (24125, "NG", "repair", "canceled", -9, 8, 0, [], "Duplicate request - canceled", ""),
]
# job number -> (status, lines: (lib code | None, quantity, description, price, type)); None description/price = lib's
Line = tuple[str | None, str, str | None, str | None, str]
INVOICES: dict[int, tuple[str, list[Line]]] = {
    24101: ("paid", [("INSP-SPR", "1", None, None, ""), ("HEAD-155P", "4", None, None, ""), ("LAB-REG", "2", None, None, "")]),
    24102: ("sent", [("INSP-EXT", "42", None, None, ""), ("EXT-RECH", "3", None, None, ""), ("EXT-5ABC", "2", None, None, "")]),
    24103: ("processed", [("TRIP", "1", None, None, ""), ("LAB-REG", "3", None, None, ""), ("HEAD-155P", "6", None, None, "")]),
    24104: ("processed", [("INSP-FA", "1", None, None, ""), ("LAB-REG", "6", None, None, ""), ("SMK-DET", "2", None, None, "")]),
    24105: ("sent", [("PM-RTU", "4", None, None, ""), ("FILT-20252", "16", None, None, ""), ("BELT-A42", "4", None, None, "")]),
    24106: ("paid", [("TRIP", "1", None, None, ""), ("LAB-OT", "2", None, None, ""), ("CAP-45-5", "1", None, None, "")]),
    24107: ("pending_accounting", [
        ("TRIP", "1", None, None, ""), ("LAB-REG", "8", None, None, ""),
        (None, "1", "Condenser fan motor, 1/3 HP, 1075 RPM", "312.40", "part"), ("R410A-LB", "3.5", None, None, ""),
    ]),
    24108: ("failed", [("INSP-EXT", "9", None, None, ""), ("EXT-RECH", "2", None, None, "")]),
    24109: ("pending_accounting", [("INSP-SPR", "1", None, None, ""), ("LAB-REG", "10", None, None, ""), ("HEAD-155P", "3", None, None, "")]),
    24110: ("pending_accounting", [
        ("TRIP", "1", None, None, ""), ("LAB-OT", "3", None, None, ""),
        (None, "1", '6" grooved coupling, rigid', "148.60", "part"), ("HEAD-155P", "2", None, None, ""),
        ("RENT-PUMP", "1", None, None, ""),
    ]),
    24111: ("pending_accounting", [("INSP-EXT", "27", None, None, "")]),
    24112: ("ok", [("PM-RTU", "2", None, None, ""), ("FILT-20252", "8", None, None, "")]),
    24113: ("internal_review", [("INSP-SPR", "1", None, None, ""), ("HEAD-155P", "1", None, None, "")]),
    24114: ("pending_accounting", [("TRIP", "1", None, None, ""), ("LAB-REG", "2", None, None, ""), ("SMK-DET", "3", None, None, "")]),
    24115: ("pending_accounting", [
        ("LAB-REG", "10", None, None, ""), (None, "1", '4" dry pipe valve trim kit', "1845.00", "part"),
        ("RENT-LIFT", "1", None, None, ""), ("PERMIT", "1", None, None, ""), ("TRIP", "1", None, None, ""),
    ]),
    24116: ("void", [("TRIP", "1", None, None, ""), ("LAB-REG", "2", None, None, "")]),
    24117: ("draft", [("INSP-HOOD", "1", None, None, "")]),
}
# job number, lib code | None, name, quantity, unit cost, vendor ref | None, PO reference | None
JOB_ITEMS = [
    (24103, "HEAD-155P", None, "6", "6.40", "VEND-2001", "PO 24103-01"),
    (24105, "FILT-20252", None, "16", "5.10", "VEND-2002", "PO 24105-01"),
    (24105, "BELT-A42", None, "4", "8.95", "VEND-2002", "PO 24105-01"),
    (24106, "CAP-45-5", None, "1", "17.25", None, None),  # from truck stock
    (24107, None, "Condenser fan motor, 1/3 HP, 1075 RPM", "1", "148.90", "VEND-2002", "PO 24107-01"),
    (24107, "R410A-LB", None, "3.5", "14.60", None, None),
    (24109, "HEAD-155P", None, "3", "6.40", "VEND-2001", "PO 24109-01"),
    (24110, None, '6" grooved coupling, rigid', "1", "61.35", "VEND-2001", "PO 24110-01"),
    (24110, "HEAD-155P", None, "2", "6.40", "VEND-2001", "PO 24110-01"),
    (24110, "RENT-PUMP", None, "1", "175.00", "VEND-2003", None),
    (24112, "FILT-20252", None, "8", "5.10", None, None),
    (24114, "SMK-DET", None, "3", "38.75", "VEND-2001", "PO 24114-01"),
    (24115, None, '4" dry pipe valve trim kit', "1", "986.00", "VEND-2001", "PO 24115-01"),
    (24115, "RENT-LIFT", None, "1", "240.00", "VEND-2003", None),
    (24115, "PERMIT", "City of Durham fire permit", "1", "95.00", None, None),
    (24118, "HEAD-ESFR", None, "12", "42.80", "VEND-2001", "PO 24118-01"),
    (24118, None, "Cleanup supplies (absorbent, bags)", "1", "36.45", None, None),
]
# fmt: on


def local(day_offset: int, hour: float) -> int:
    """Unix seconds of `hour` (local, fractional) on DEMO_DATE + day_offset."""
    start = datetime.combine(DEMO_DATE + timedelta(days=day_offset), time(0), tzinfo=DEMO_TIMEZONE)
    return int((start + timedelta(hours=hour)).timestamp())


class _Builder:
    def __init__(self) -> None:
        self.store = Store()
        self.ids: dict[str, int] = {}

    def add(self, collection: dict[int, Row], key: str | None, row: Row) -> Row:
        row = {"id": self.store.new_id(), **row}
        collection[row["id"]] = row
        if key is not None:
            self.ids[key] = row["id"]
        return row

    def company(
        self, name: str, ref: str, phone: str, email: str, street: str, city: str, zip_: str, **flags: Any
    ) -> Row:
        address = {"street": street, "city": city, "state": "NC", "postalCode": zip_}
        row: Row = {"name": name, "refNumber": ref, "status": "active", "isCustomer": False, "isVendor": False}
        row.update(flags)
        row.update(address=address, phoneNumber=phone, primaryEmail=email, tags=[], created=CREATED, updated=CREATED)
        return self.add(self.store.companies, ref, row)

    def user(self, key: str, first: str, last: str, role: str, is_tech: bool, email: str) -> Row:
        row: Row = {"firstName": first, "lastName": last, "name": f"{first} {last}", "email": email, "username": email}
        row.update(phone="919-555-01" + str(90 + len(self.store.users)), status="active", role=role, isTech=is_tech)
        row.update(companyId=self.store.account["id"], created=CREATED, updated=CREATED)
        return self.add(self.store.users, key, row)


def demo_dataset() -> Store:
    """A fresh Store holding the demo company (mutations never leak between calls)."""
    b = _Builder()
    s = b.store
    own = b.company("Summit Fire & Mechanical, Inc.", "SFM", "919-555-0100", "office@summitfire.example",
                    "4020 Stirrup Creek Dr", "Durham", "27703", isVendor=True)  # fmt: skip
    s.account = {"id": own["id"], "name": own["name"]}
    for name, code, rate in TAX_GROUPS:
        b.add(s.tax_groups, code, {"name": name, "code": code, "combinedRate": Decimal(rate)})
    for name, abbr in SERVICE_LINES:
        b.add(s.service_lines, abbr, {"name": name, "abbr": abbr})
    for code, name, kind, price, cost, line in LIB_ITEMS:
        row: Row = {"code": code, "name": name, "type": kind, "active": True, "price": Decimal(price)}
        row.update(cost=Decimal(cost), serviceLineId=line and b.ids[line], updated=CREATED)
        b.add(s.lib_items, code, row)
    terms: dict[int, int] = {}
    for name, ref, phone, email, street, city, zip_, net in COMPANIES:
        terms[b.company(name, ref, phone, email, street, city, zip_, isCustomer=True)["id"]] = net
    for name, ref, phone, email, street, city, zip_ in VENDORS:
        b.company(name, ref, phone, email, street, city, zip_, isVendor=True)
    customers = [b.ids[c[1]] for c in COMPANIES]
    for key, cust, name, store_no, street, city, zip_, group, lat, lon in LOCATIONS:
        row = {
            "name": name,
            "storeNumber": store_no,
            "refNumber": key,
            "status": "active",
            "companyId": customers[cust],
        }
        row.update(address={"street": street, "city": city, "state": "NC", "postalCode": zip_}, tags=[])
        row.update(taxable=group is not None, taxGroupId=group and b.ids[group], lat=Decimal(lat), lon=Decimal(lon))
        row.update(phoneNumber="", email="", created=CREATED, updated=CREATED)
        b.add(s.locations, key, row)
    _people(b)
    _jobs(b)
    _invoices(b, terms)
    _job_items(b)
    _clock_events(b)
    return s


def _people(b: _Builder) -> None:
    s = b.store
    integration = b.user("integration", "LedgerBridge", "Integration", "admin", False, DEMO_USERNAME)
    b.user("office", "Dana", "Whitfield", "manager", False, "dwhitfield@summitfire.example")
    for key, first, last, number, _ in TECHS:
        tech = b.user(
            key,
            first,
            last,
            "technician",
            True,
            f"{first[0].lower()}{last.lower().replace(chr(39), '')}@summitfire.example",
        )
        if number:
            s.external_ids[("user", tech["id"])] = {PAYROLL_SYSTEM: number}
    s.clients[DEMO_CLIENT_ID] = OAuthClient(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, integration["id"])
    s.logins[DEMO_USERNAME] = Login(DEMO_USERNAME, DEMO_PASSWORD, integration["id"])
    s.logins[DEMO_TECH_USERNAME] = Login(DEMO_TECH_USERNAME, DEMO_TECH_PASSWORD, b.ids["reyes"])


def _jobs(b: _Builder) -> None:
    s = b.store
    for number, loc_key, kind, status, day, hour, hours, techs, description, po in JOBS:
        loc = s.locations[b.ids[loc_key]]
        start = local(day, hour)
        done = status in ("completed", "pending_invoice")
        row = {"number": number, "name": f"{kind.replace('_', ' ').title()} Job #{number}", "customName": None}
        row.update(type=kind, status=status, description=description, customerPo=po, vendorId=s.account["id"])
        row.update(customerId=loc["companyId"], locationId=loc["id"], techIds=[b.ids[t] for t in techs], tags=[])
        row.update(scheduledDate=start if status != "new" else None, completedOn=start + hours * 3600 if done else None)
        row.update(created=start - 10 * 86400, updated=min(start + hours * 3600, int(DEMO_NOW.timestamp())))
        b.add(s.jobs, f"job{number}", row)


def _invoices(b: _Builder, terms: dict[int, int]) -> None:
    s = b.store
    for n, (number, (status, lines)) in enumerate(INVOICES.items()):
        job = s.jobs[b.ids[f"job{number}"]]
        loc = s.locations[job["locationId"]]
        issued = datetime.fromtimestamp(job["completedOn"], UTC).date() + timedelta(days=1)
        net = terms[job["customerId"]]
        items = []
        for code, qty, desc, price, kind in lines:
            lib = s.lib_items[b.ids[code]] if code else None
            kind = lib["type"] if lib else kind
            items.append({
                "id": s.new_id(), "description": desc or (lib["name"] if lib else ""), "quantity": Decimal(qty),
                "price": Decimal(price) if price else lib["price"] if lib else Decimal(0),
                "taxable": loc["taxable"] and kind == "part", "libItemId": lib and lib["id"],
                "serviceLineId": lib and lib["serviceLineId"],
            })  # fmt: skip
        updated = min(local((issued - DEMO_DATE).days + (2 if status in ("processed", "paid") else 0), 16), local(0, 9))
        row: Row = {
            "invoiceNumber": f"INV-{number}",
            "name": f"Invoice INV-{number}",
            "type": "invoice",
            "status": status,
        }
        row.update(transactionDate=day_stamp(issued), dueDate=day_stamp(issued + timedelta(days=net)))
        row.update(customerId=job["customerId"], locationId=loc["id"], jobId=job["id"], vendorId=s.account["id"])
        row.update(terms={"id": net, "name": f"Net {net}"}, customerPo=job["customerPo"], partial=False, tags=[])
        row.update(notes="", assignedUserId=b.ids["office"], contractId=None, taxGroupId=loc.get("taxGroupId"))
        row.update(items=items, created=local((issued - DEMO_DATE).days, 9 + n % 5), updated=updated)
        inv = b.add(s.invoices, f"inv{number}", row)
        if status == "processed":
            s.external_ids[("invoice", inv["id"])] = {ACCOUNTING_SYSTEM: str(1043 + n)}
    _payments(b)
    failed = b.ids["inv24108"]
    b.add(s.comments, None, {
        "entityType": "invoice", "entityId": failed, "visibility": [], "authorId": b.ids["integration"],
        "content": "QuickBooks Online rejected the invoice: customer \"St. Anne's Parish\" is not mapped.",
        "created": s.invoices[failed]["updated"],
    })  # fmt: skip
    for ref, qbo in (("CUST-1001", "58"), ("CUST-1002", "59"), ("CUST-1003", "60")):
        s.external_ids[("company", b.ids[ref])] = {ACCOUNTING_SYSTEM: qbo}


def _payments(b: _Builder) -> None:
    s = b.store
    for number, method, reference, day, full in (
        (24101, "check", "CHK 10452", -3, True),
        (24106, "credit_card", "VISA *4417", -6, True),
        (24102, "ach", "ACH 000771", -2, False),
    ):
        inv = s.invoices[b.ids[f"inv{number}"]]
        amount = s.totals(inv)["totalPrice"] if full else Decimal("300.00")
        row = {"invoiceId": inv["id"], "amount": amount, "method": method, "referenceNumber": reference}
        row.update(date=day_stamp(DEMO_DATE + timedelta(days=day)), created=local(day, 15))
        b.add(s.payments, None, row)
        if full:
            inv["statusBeforePaid"] = "sent"


def _job_items(b: _Builder) -> None:
    s = b.store
    for number, code, name, qty, cost, vendor, po in JOB_ITEMS:
        job = s.jobs[b.ids[f"job{number}"]]
        lib = s.lib_items[b.ids[code]] if code else None
        used = job["scheduledDate"] + 3600
        row = {"jobId": job["id"], "name": name or (lib["name"] if lib else ""), "quantity": Decimal(qty)}
        row.update(cost=Decimal(cost), price=lib["price"] if lib else None, usedOn=used, libItemId=lib and lib["id"])
        row.update(vendorId=vendor and b.ids[vendor], serviceLineId=lib and lib["serviceLineId"])
        row.update(source={"type": "refnumber", "value": po} if po else None, created=used, updated=used)
        row["description"] = row["name"]
        b.add(s.job_items, None, row)


def _clock_events(b: _Builder) -> None:
    """En-route and on-site pairs for every worked job of the last two weeks; Luis Ortega is still on site."""
    s = b.store
    rng = random.Random(24101)
    sources = {t[0]: t[4] for t in TECHS}
    for number, _, _, status, day, hour, hours, techs, _, _ in JOBS:
        worked = status in ("completed", "pending_invoice") or (status == "scheduled" and day == 0)
        if not (-14 <= day <= 0 and worked):
            continue
        job = s.jobs[b.ids[f"job{number}"]]
        loc = s.locations[job["locationId"]]
        for k, tech in enumerate(techs):
            arrive = local(day, hour) + k * 300 + rng.randint(-240, 240)
            leave = local(day, hour + hours) - rng.randint(0, 900)
            still_on_site = number == 24120
            pairs = [
                ("enroute", arrive - rng.randint(20, 45) * 60, arrive),
                ("onsite", arrive, None if still_on_site else leave),
            ]
            if number == 24109 and tech == "reyes":
                pairs.insert(0, ("jobprep", local(day, 6.25), local(day, 6.7)))
            for activity, clock_in, clock_out in pairs:
                row = {"activity": activity, "source": sources[tech], "userId": b.ids[tech], "jobId": job["id"]}
                row.update(appointmentId=None, clockIn=clock_in, clockOut=clock_out, lat=loc["lat"], lon=loc["lon"])
                b.add(s.clock_events, None, row)
