"""The operation file: one takedown described in TOML, validated early and loudly.

An operation names the target families, adds what the analysts found
(extra reserved domains, resolver and C&C addresses, DGA seeds), sets the
takedown window and the sinkhole addresses. Every error names the file, the
line where it can be found, the key path and what was expected.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sinkhole import families
from sinkhole.exceptions import DgaError, FamilyError, OperationError
from sinkhole.types import ParamValue

#: Longest takedown window accepted (ten years); longer is surely a typo.
MAX_HOLD_DAYS = 3660

#: The days a window may cover. Beyond them DGAs, zone serials (YYYYMMDDnn in 32 bits) and
#: the margins added around the window stop making sense; a date outside is surely a typo.
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$")


def normalize_domain(value: str) -> str:
    """Lowercase, strip a trailing dot, and check that `value` is a domain name."""
    name = value.strip().lower().rstrip(".")
    if not _HOSTNAME.match(name) or "." not in name:
        raise ValueError(f"{value!r} is not a domain name")
    return name


def _check_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not an IP address") from None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Window(_Model):
    """The operation's name and takedown window."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: str = ""
    start: dt.date
    hold_days: Annotated[int, Field(ge=1, le=MAX_HOLD_DAYS)] = 30
    clock_skew_days: Annotated[int, Field(ge=0, le=30)] = 1

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, value: dt.date) -> dt.date:
        if not FIRST_DAY <= value <= LAST_DAY:
            raise ValueError(f"expected a day from {FIRST_DAY} to {LAST_DAY}")
        return value

    @field_validator("hold_days")
    @classmethod
    def _end_in_range(cls, value: int, info: ValidationInfo) -> int:
        start = info.data.get("start")
        if isinstance(start, dt.date) and (LAST_DAY - start).days + 1 < value:
            raise ValueError(f"a window of {value} days from {start} would end after {LAST_DAY}")
        return value

    @property
    def end(self) -> dt.date:
        """The last day of the window (inclusive)."""
        return self.start + dt.timedelta(days=self.hold_days - 1)


class Sinkhole(_Model):
    """Where seized names point, and how their zones are signed off."""

    ipv4: tuple[str, ...] = ("127.0.0.1",)
    ipv6: tuple[str, ...] = ()
    nameservers: tuple[str, ...] = ("ns1.sinkhole.example",)
    hostmaster: str = "hostmaster.sinkhole.example"
    ttl: Annotated[int, Field(ge=0, le=86400)] = 300
    rpz_origin: str = "rpz.sinkhole.example"

    @field_validator("ipv4")
    @classmethod
    def _v4(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(_check_ip(v) for v in values)
        for ip in out:
            if ipaddress.ip_address(ip).version != 4:
                raise ValueError(f"{ip!r} is not an IPv4 address")
        return out

    @field_validator("ipv6")
    @classmethod
    def _v6(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(_check_ip(v) for v in values)
        for ip in out:
            if ipaddress.ip_address(ip).version != 6:
                raise ValueError(f"{ip!r} is not an IPv6 address")
        return out

    @field_validator("nameservers")
    @classmethod
    def _ns(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if not values:
            raise ValueError("at least one nameserver is needed for the zones' NS records")
        return tuple(normalize_domain(v) for v in values)

    @field_validator("hostmaster", "rpz_origin")
    @classmethod
    def _name(cls, value: str) -> str:
        return normalize_domain(value)

    @model_validator(mode="after")
    def _some_address(self) -> Sinkhole:
        if not self.ipv4 and not self.ipv6:
            raise ValueError("give at least one sinkhole address in ipv4 or ipv6")
        return self


def _param_values(values: Any) -> Any:
    """DGA parameter values are integers, strings or booleans; say so in the user's words."""
    if not isinstance(values, dict):
        raise ValueError("expected a table of KEY = VALUE, e.g. { seed = 42 }")
    for key, value in values.items():
        if not isinstance(value, int | str | bool):
            raise ValueError(f"{key}: expected an integer, a string or true/false (got {value!r})")
    return values


class Target(_Model):
    """One family to take down, with the analysts' additions."""

    family: str
    static_domains: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    static_ips: tuple[str, ...] = ()
    dga_params: Annotated[dict[str, ParamValue], BeforeValidator(_param_values)] = Field(
        default_factory=dict
    )
    use_family_lists: bool = True

    @field_validator("family")
    @classmethod
    def _known(cls, value: str) -> str:
        try:
            return families.get(value).name
        except FamilyError as exc:
            raise ValueError(exc.message) from None

    @field_validator("static_domains")
    @classmethod
    def _domains(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalize_domain(v) for v in values)

    @field_validator("dns_servers", "static_ips")
    @classmethod
    def _ips(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_ip(v) for v in values)

    @field_validator("dga_params")
    @classmethod
    def _params(cls, values: dict[str, ParamValue], info: ValidationInfo) -> dict[str, ParamValue]:
        name = info.data.get("family")
        if not values or name is None:
            return values
        dga = families.get(name).dga
        if dga is None:
            raise ValueError(f"family {name!r} has no DGA, so dga_params do not apply")
        try:
            return dga.params(values)
        except DgaError as exc:
            raise ValueError(exc.message) from None


def parse_address(value: str, default_port: int | None = None) -> tuple[str, int]:
    """HOST:PORT (IPv6 as [HOST]:PORT) to a (host, port) pair; port 0 picks a free one."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if text.startswith("[") and "]" in text:
        inner, _, rest = text[1:].partition("]")
        host, port_text, sep = inner, rest.removeprefix(":"), ":" if rest else ""
    if not sep:
        host, port_text = text.strip("[]"), ""
    if not port_text:
        if default_port is None:
            raise ValueError(f"{value!r}: expected HOST:PORT")
        port_text = str(default_port)
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"{value!r}: port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"{value!r}: port {port} is out of range 0-65535")
    return _check_ip(host), port


class RawListener(_Model):
    """A raw TCP or UDP port, optionally tied to a family whose decoder reads it."""

    address: str
    family: str | None = None

    @field_validator("address")
    @classmethod
    def _addr(cls, value: str) -> str:
        parse_address(value)
        return value

    @field_validator("family")
    @classmethod
    def _family(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return families.get(value).name
        except FamilyError as exc:
            raise ValueError(exc.message) from None


class Listeners(_Model):
    """Where the sinkhole listens (HOST:PORT each); `sinkhole serve` flags override."""

    dns: tuple[str, ...] = ("127.0.0.1:5353",)
    resolver: tuple[str, ...] = ()
    http: tuple[str, ...] = ("127.0.0.1:8080",)
    tls: tuple[str, ...] = ()
    tcp: tuple[RawListener, ...] = ()
    udp: tuple[RawListener, ...] = ()
    workers: Annotated[int, Field(ge=0, le=256)] = 0
    #: PEM certificate chain and key for TLS; without them a self-signed pair is made.
    tls_cert: str | None = None
    tls_key: str | None = None

    @model_validator(mode="after")
    def _cert_pair(self) -> Listeners:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        return self

    @field_validator("dns", "resolver", "http", "tls")
    @classmethod
    def _addrs(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            parse_address(value)
        return values


class Limits(_Model):
    """Limits every listener enforces."""

    max_connections: Annotated[int, Field(ge=1)] = 10_000
    idle_timeout: Annotated[float, Field(gt=0, le=3600)] = 15.0
    header_timeout: Annotated[float, Field(gt=0, le=600)] = 10.0
    header_bytes: Annotated[int, Field(ge=256, le=1 << 20)] = 16_384
    body_bytes: Annotated[int, Field(ge=0, le=1 << 26)] = 1 << 20
    payload_head: Annotated[int, Field(ge=0, le=65536)] = 512
    requests_per_connection: Annotated[int, Field(ge=1)] = 1000
    dns_rate_limit: Annotated[int, Field(ge=0)] = 200


class Data(_Model):
    """Where events go, and this sensor's name."""

    #: The event store; unset, a per-operation folder under the user's data folder.
    dir: str | None = None
    sensor: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "sensor"


class Collisions(_Model):
    """Benign-domain lists that planned names must not hit."""

    benign: tuple[str, ...] = ()


class Registries(_Model):
    """What the operation knows about the registries it must ask."""

    #: TLDs whose registry will not act: their names are findings, like .bit's
    not_cooperating: tuple[str, ...] = ()

    @field_validator("not_cooperating")
    @classmethod
    def _tlds(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(v.strip().lower().strip(".") for v in values)
        for tld in out:
            if not re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", tld):
                raise ValueError(f'{tld!r} is not a top-level domain (e.g. "ru")')
        return out


class Attribution(_Model):
    """The datasets that attribute addresses to networks (`sinkhole attribute`, population)."""

    #: dataset files, any format `sinkhole attribute` reads, relative to the operation file;
    #: `lab` is the shipped lab table
    datasets: tuple[str, ...] = ()


class Notify(_Model):
    """Who notifications come from, and how often a contact may get one (`sinkhole notify`)."""

    #: the reporting organisation, named in every message and XARF report
    org: Annotated[str, Field(min_length=1, max_length=200)] = "sinkhole operator"
    #: the sender address (--from overrides it)
    from_address: str | None = None
    reply_to: str | None = None
    #: a folder of subject.txt/body.txt templates, relative to the operation file
    templates: str | None = None
    #: at least this many hours between two messages to one abuse contact
    contact_gap_hours: Annotated[float, Field(ge=0, le=24 * 366)] = 20.0

    @field_validator("from_address", "reply_to")
    @classmethod
    def _mailbox(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from email_validator import EmailNotValidError, validate_email

        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"{value!r} is not an e-mail address: {exc}") from None


class Operation(_Model):
    """One takedown, as read from its TOML file."""

    operation: Window
    sinkhole: Sinkhole = Sinkhole()
    targets: Annotated[tuple[Target, ...], Field(min_length=1)]
    collisions: Collisions = Collisions()
    registries: Registries = Registries()
    listeners: Listeners = Listeners()
    limits: Limits = Limits()
    data: Data = Data()
    attribution: Attribution = Attribution()
    notify: Notify = Notify()
    path: Path | None = Field(default=None, exclude=True)

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the file are taken from."""
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        """A path from the file, relative to the file's folder."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def is_lab(self) -> bool:
        """Whether every sinkhole address is on loopback, where only the lab table reaches."""
        addresses = (*self.sinkhole.ipv4, *self.sinkhole.ipv6)
        return all(ipaddress.ip_address(ip).is_loopback for ip in addresses)

    def attribution_datasets(self) -> list[Path | str]:
        """The attribution datasets: the named ones, else the lab table for a lab operation."""
        named = [d if d == "lab" else self.resolve(d) for d in self.attribution.datasets]
        if not named and self.is_lab:
            return ["lab"]
        return named

    @property
    def data_dir(self) -> Path:
        """The event store every command uses for this operation, unless told otherwise."""
        if self.data.dir:
            return self.resolve(self.data.dir)
        return data_home() / folder_name(self.operation.name)


def data_home() -> Path:
    """sinkhole's folder under the user's data folder: $XDG_DATA_HOME/sinkhole.

    Event stores hold victim addresses, so they live outside any checkout by default
    (XDG: a relative $XDG_DATA_HOME is ignored, as the specification says).
    """
    base = os.environ.get("XDG_DATA_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "sinkhole"


def folder_name(name: str) -> str:
    """An operation name as one safe folder name ("Lab run 2" -> "lab-run-2")."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-.")
    return slug or "operation"


def load(path: str | Path) -> Operation:
    """Read and validate an operation file; any problem is one OperationError line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OperationError(f"{path}: no such operation file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OperationError(f"{path}: cannot read: {exc}") from None
    return loads(text, path)


def loads(text: str, path: Path | None = None) -> Operation:
    """Validate operation TOML text (`path` is used in messages and for relative paths)."""
    where = str(path) if path else "<operation>"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OperationError(f"{where}: malformed TOML: {exc}") from None
    try:
        return Operation.model_validate({**raw, "path": path})
    except ValidationError as exc:
        raise OperationError(_describe(where, text, exc)) from None


def _describe(where: str, text: str, exc: ValidationError) -> str:
    """The first mistake the user made, as one line: file:line: key.path: what was expected.

    Errors that only follow from another one (a list left empty because its one item was
    invalid) are dropped, so the line names the cause.
    """
    errors = exc.errors()
    locs = [tuple(e["loc"]) for e in errors]
    causes = [
        e
        for e, loc in zip(errors, locs, strict=True)
        if not any(len(other) > len(loc) and other[: len(loc)] == loc for other in locs)
    ]
    error = (causes or errors)[0]
    loc = tuple(error["loc"])
    key = _loc_text(loc)
    line = locate(text, loc)
    at = f"{where}:{line}" if line else where
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check its spelling)"
    elif error["type"] == "missing":
        message = "required key is missing"
    got = error.get("input")
    if isinstance(got, dt.date | dt.time):
        got = got.isoformat()  # as the user wrote it, not datetime.date(1, 1, 1)
    shown = (
        ""
        if error["type"] in {"missing", "extra_forbidden"} or isinstance(got, dict | list)
        else (f" (got {got!r})")
    )
    return f"{at}: {key}: {message}{shown}"


def _loc_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number (1-based) of the key at `loc` in TOML `text`."""
    lines = text.splitlines()
    section: list[str] = []
    counts: dict[str, int] = {}
    best: int | None = None
    want_table = [p for p in loc if isinstance(p, str)]
    want_index = next((p for p in loc if isinstance(p, int)), None)
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        header = re.match(r"^\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?", stripped)
        if header:
            name = header.group(1)
            section = name.split(".")
            if stripped.startswith("[["):
                counts[name] = counts.get(name, -1) + 1
            if _matches(section, counts.get(section[0], 0), want_table, want_index):
                best = best or number
            continue
        key = re.match(r"^([A-Za-z0-9_-]+)\s*=", stripped)
        if key:
            path = [*section, key.group(1)]
            if _matches(path, counts.get(section[0], 0) if section else 0, want_table, want_index):
                if len(path) >= len(want_table):
                    return number
                best = number
    return best


def _matches(path: list[str], index: int, want: list[str], want_index: int | None) -> bool:
    if not path or path != want[: len(path)]:
        return False
    return want_index is None or index == want_index
