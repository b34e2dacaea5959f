"""A QuickBooks Web Connector (QBWC 2.x), driving sessions against a SOAP endpoint as the real one does.

Call order (QBWC Programmer's Guide; QBWC debug logs): serverVersion -> clientVersion (an "E:" answer stops,
"W:" warns) -> authenticate ("nvu" / "none" / "busy" stop; "" or a company file path go on) ->
sendRequestXML (the first carries the HCP response: HostQuery, CompanyQuery, PreferencesQuery) ->
QuickBooks answers -> receiveResponseXML (0-99 = ask again; 100 = done; negative = getLastError) ...
-> closeConnection. An empty request means getLastError: "NoOp" pauses ~5 s and asks again, anything else
ends the session. connectionError instead of the first sendRequestXML when the company file cannot open.
The scheduler runs a session every RunEveryNMinutes.

`crash` injects the faults of a real desktop: the PC sleeps, QBWC is closed, the network drops — at a
chosen step of a chosen round trip, after which nothing more is sent (not even closeConnection).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape

from defusedxml.ElementTree import fromstring

from sandbox.qbd.company import Company, QbXmlError

NS = "http://developer.intuit.com/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
CLIENT_VERSION = "2.3.0.215"
CANNOT_OPEN = "0x80040408"
NOOP_PAUSE_S = 5.0
MAX_ROUND_TRIPS = 10_000  # a guard against a service that never says 100

Transport = Callable[[str, str], tuple[int, str]]  # (SOAPAction, body) -> (HTTP status, body)
CrashPoint = Literal["before_send", "after_send", "after_process", "after_receive"]


@dataclass
class SessionLog:
    calls: list[str] = field(default_factory=list)
    status: str = ""  # authenticate's answer
    round_trips: int = 0
    percents: list[int] = field(default_factory=list)
    last_error: str = ""
    closed: str = ""
    crashed: bool = False
    noops: int = 0


def envelope(operation: str, params: dict[str, str | int]) -> str:
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in params.items())
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
        f'<{operation} xmlns="{NS}">{inner}</{operation}></soap:Body></soap:Envelope>'
    )


def result(operation: str, body: str) -> list[str]:
    """The strings of an operation's result (one for string/int results, several for ArrayOfString)."""
    root = fromstring(body)
    fault = root.find(f".//{{{SOAP}}}Fault")
    if fault is not None:
        raise RuntimeError(f"SOAP fault from {operation}: {fault.findtext('faultstring')}")
    node = root.find(f".//{{{NS}}}{operation}Result")
    if node is None:
        raise RuntimeError(f"{operation}: no {operation}Result in {body[:200]}")
    strings = node.findall(f"{{{NS}}}string")
    return [s.text or "" for s in strings] if strings else [node.text or ""]


@dataclass
class WebConnector:
    transport: Transport
    company: Company
    username: str
    password: str
    run_every_minutes: int = 15
    sleep: Callable[[float], None] = time.sleep
    crash: tuple[CrashPoint, int] | None = None  # (step, round trip number, 1-based)
    last_run: float | None = None

    def _call(self, log: SessionLog, operation: str, params: dict[str, str | int]) -> list[str]:
        log.calls.append(operation)
        status, body = self.transport(f'"{NS}{operation}"', envelope(operation, params))
        if status >= 500 and "Fault" not in body:
            raise RuntimeError(f"{operation}: HTTP {status}")
        return result(operation, body)

    def _crashes(self, point: CrashPoint, trip: int, log: SessionLog) -> bool:
        log.crashed = self.crash == (point, trip)
        return log.crashed

    def due(self, now: float) -> bool:
        """The scheduler: a session every run_every_minutes."""
        return self.last_run is None or now - self.last_run >= self.run_every_minutes * 60

    def run_session(self, now: float | None = None) -> SessionLog:
        self.last_run = time.time() if now is None else now
        log = SessionLog()
        self._call(log, "serverVersion", {})
        answer = self._call(log, "clientVersion", {"strVersion": CLIENT_VERSION})[0]
        if answer.startswith("E:"):
            log.last_error = answer[2:]
            return log
        credentials: dict[str, str | int] = {"strUserName": self.username, "strPassword": self.password}
        ticket, log.status, *_ = [*self._call(log, "authenticate", credentials), ""]
        if log.status in ("nvu", "none", "busy"):
            return log
        if not self.company.can_open:
            self._call(log, "connectionError", {"ticket": ticket, "hresult": CANNOT_OPEN,
                                                "message": "Could not open the company file."})  # fmt: skip
            log.last_error = "QuickBooks could not open the company file"
            return log
        self._loop(log, ticket)
        return log

    def _loop(self, log: SessionLog, ticket: str) -> None:
        hcp = self.company.hcp_response()
        major, minor = self.company.versions[-1].split(".")
        for trip in range(1, MAX_ROUND_TRIPS):
            if self._crashes("before_send", trip, log):
                return
            request = self._call(log, "sendRequestXML", {
                "ticket": ticket, "strHCPResponse": hcp if trip == 1 else "", "strCompanyFileName": self.company.path,
                "qbXMLCountry": "US", "qbXMLMajorVers": major, "qbXMLMinorVers": minor,
            })[0]  # fmt: skip
            if not request:
                log.last_error = self._call(log, "getLastError", {"ticket": ticket})[0]
                if log.last_error == "NoOp":
                    log.noops += 1
                    self.sleep(NOOP_PAUSE_S)
                    continue
                break
            if self._crashes("after_send", trip, log):
                return
            log.round_trips += 1
            response, hresult, message = "", "", ""
            try:
                response = self.company.process(request)
            except QbXmlError as exc:
                hresult, message = exc.hresult, str(exc)
            if self._crashes("after_process", trip, log):
                return
            params: dict[str, str | int] = {"ticket": ticket, "response": response, "hresult": hresult,
                                            "message": message}  # fmt: skip
            percent = int(self._call(log, "receiveResponseXML", params)[0])
            log.percents.append(percent)
            if self._crashes("after_receive", trip, log):
                return
            if percent < 0:
                log.last_error = self._call(log, "getLastError", {"ticket": ticket})[0]
                break
            if percent >= 100:
                break
        log.closed = self._call(log, "closeConnection", {"ticket": ticket})[0]
