"""Text-like field types: text (including the ``id`` primary key), editor, email, url and password."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ....tools.ids import PatternError, generate_from_pattern
from .base import REQUIRED, FieldErr, FieldType, InvalidValue, err, to_str

if TYPE_CHECKING:
    from ..model import Collection, Field

DEFAULT_ID_PATTERN = "^[a-z0-9]+$"
DEFAULT_TEXT_MAX = 5000
FORBIDDEN_PK_CHARACTERS = (
    ".",
    "/",
    "\\",
    "|",
    '"',
    "'",
    "`",
    "<",
    ">",
    ":",
    "?",
    "*",
    "%",
    "$",
    " ",
    "\t",
    "\n",
    "\r",
)
RESERVED_PKS = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\Z"
)  # \Z, not $: "$" also matches before a final "\n", which would let "a@b.co\n" through
URL_SCHEMES = {"http", "https", "ftp", "ftps", "ws", "wss"}


@lru_cache(maxsize=256)
def compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def clean_text(raw: Any) -> str:
    value = to_str(raw)
    if "\x00" in value:
        raise InvalidValue("validation_invalid_value", "Null characters are not allowed.")
    return value


def length_errors(value: str, minimum: int, maximum: int) -> FieldErr | None:
    length = len(value)
    if minimum > 0 and length < minimum:
        return err("validation_min_text_constraint", f"Must be at least {minimum} character(s).", min=minimum)
    if maximum > 0 and length > maximum:
        return err(
            "validation_max_text_constraint", f"Must be no more than {maximum} character(s).", max=maximum
        )
    return None


def regex_error(pattern: Any) -> FieldErr | None:
    if not isinstance(pattern, str) or not pattern:
        return None
    try:
        compiled(pattern)
    except re.error:
        return err("validation_invalid_regex", "Invalid regular expression.")
    return None


class TextType(FieldType):
    name = "text"
    option_defaults = {"autogeneratePattern": "", "max": 0, "min": 0, "pattern": "", "primaryKey": False}

    def column_sql(self, f: Field, dialect: str) -> str:
        if f.opt("primaryKey"):
            return "TEXT PRIMARY KEY NOT NULL"
        return "TEXT DEFAULT '' NOT NULL"

    def prepare(self, f: Field, raw: Any) -> Any:
        return clean_text(raw)

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        primary = f.opt("primaryKey")
        if value == "":
            return REQUIRED if f.required or primary else None
        problem = length_errors(value, f.opt("min"), f.opt("max") or DEFAULT_TEXT_MAX)
        if problem:
            return problem
        pattern = f.opt("pattern")
        if pattern and not compiled(pattern).search(value):
            return err("validation_invalid_format", "Invalid value format.")
        if primary and pattern != DEFAULT_ID_PATTERN:
            for char in FORBIDDEN_PK_CHARACTERS:
                if char in value:
                    return err(
                        "validation_forbidden_pk_character",
                        f"'{char}' is not a valid primary key character.",
                        ch=char,
                    )
            if value.upper() in RESERVED_PKS:
                return err(
                    "validation_reserved_pk",
                    f"The primary key '{value.upper()}' is reserved and cannot be used.",
                    reserved=value.upper(),
                )
        return None

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        errors: dict[str, FieldErr] = {}
        minimum, maximum = f.opt("min"), f.opt("max")
        if minimum < 0:
            errors["min"] = err(
                "validation_min_greater_equal_than_required", "Must be no less than 0.", threshold=0
            )
        if maximum and maximum < minimum:
            errors["max"] = err(
                "validation_min_greater_equal_than_required",
                f"Must be no less than {minimum}.",
                threshold=minimum,
            )
        pattern_problem = regex_error(f.opt("pattern"))
        if pattern_problem:
            errors["pattern"] = pattern_problem
        if f.opt("primaryKey"):
            if f.name != "id":
                errors["name"] = err("validation_in_invalid", 'The primary key must be named "id".')
            if not f.opt("pattern"):
                errors["pattern"] = REQUIRED
            if f.hidden:
                errors["hidden"] = err("validation_empty", "Must be blank.")
        generator = f.opt("autogeneratePattern")
        if generator and "pattern" not in errors:
            try:
                samples = [generate_from_pattern(generator) for _ in range(5)]
            except PatternError as exc:
                errors["autogeneratePattern"] = err("validation_invalid_autogenerate_pattern", str(exc))
            else:
                for sample in samples:
                    if self.validate(f, sample, True):
                        errors["autogeneratePattern"] = err(
                            "validation_invalid_autogenerate_pattern_value",
                            "The provided autogenerate pattern could produce invalid field values, "
                            f"ex.: {sample!r}",
                        )
                        break
        return errors


class EditorType(FieldType):
    name = "editor"
    option_defaults = {"convertURLs": False, "maxSize": 0}
    DEFAULT_MAX_SIZE = 5 << 20

    def prepare(self, f: Field, raw: Any) -> Any:
        import nh3

        value = clean_text(raw)
        # Rich text is stored sanitized: scripts and event handlers never reach another user's page.
        return nh3.clean(value) if value else value

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        if value == "":
            return REQUIRED if f.required else None
        limit = f.opt("maxSize") or self.DEFAULT_MAX_SIZE
        if len(value.encode()) > limit:
            return err(
                "validation_content_size_limit",
                f"The maximum allowed content size is {limit} bytes.",
                maxSize=limit,
            )
        return None


def _domain_lists(f: Field) -> tuple[list[str], list[str]]:
    return [d.lower() for d in f.opt("onlyDomains") or []], [d.lower() for d in f.opt("exceptDomains") or []]


def _domain_settings_errors(f: Field) -> dict[str, FieldErr]:
    only, excluded = _domain_lists(f)
    if only and excluded:
        return {"onlyDomains": err("validation_empty", "Must be blank (exceptDomains is set).")}
    return {}


class _DomainRestricted(FieldType):
    """Text fields with ``onlyDomains`` / ``exceptDomains`` (email, url)."""

    option_defaults = {"exceptDomains": [], "onlyDomains": []}

    def prepare(self, f: Field, raw: Any) -> Any:
        return clean_text(raw).strip()

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        return _domain_settings_errors(f)


class EmailType(_DomainRestricted):
    name = "email"

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        if value == "":
            return REQUIRED if f.required else None
        if len(value) > 255 or not EMAIL_RE.match(value):
            return err("validation_is_email", "Must be a valid email address.")
        domain = value.rsplit("@", 1)[1].lower()
        only, excluded = _domain_lists(f)
        if (only and domain not in only) or (excluded and domain in excluded):
            return err("validation_email_domain_not_allowed", "Email domain is not allowed.")
        return None


class URLType(_DomainRestricted):
    name = "url"

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        if value == "":
            return REQUIRED if f.required else None
        try:
            parts = urlsplit(value)
            host = (parts.hostname or "").lower()
        except ValueError:
            return err("validation_invalid_url", "Must be a valid url.")
        if parts.scheme.lower() not in URL_SCHEMES or not host or any(c.isspace() for c in value):
            return err("validation_invalid_url", "Must be a valid url.")
        only, excluded = _domain_lists(f)
        if (only and host not in only) or (excluded and host in excluded):
            return err("validation_url_domain_not_allowed", "Url domain is not allowed.")
        return None


class PlainPassword(str):
    """A password as the client sent it, before hashing (never stored, never serialized)."""

    __slots__ = ()


class PasswordType(FieldType):
    """Always hidden. The python value is the stored hash, or a ``PlainPassword`` just submitted."""

    name = "password"
    option_defaults = {"cost": 0, "max": 0, "min": 0, "pattern": ""}
    MAX_LENGTH = 256

    def prepare(self, f: Field, raw: Any) -> Any:
        return PlainPassword(clean_text(raw))

    def validate(self, f: Field, value: Any, is_new: bool) -> FieldErr | None:
        if not isinstance(value, PlainPassword):
            return REQUIRED if f.required and not value else None
        if value == "":
            return REQUIRED if f.required else None
        problem = length_errors(value, f.opt("min"), min(f.opt("max") or self.MAX_LENGTH, self.MAX_LENGTH))
        if problem:
            return problem
        pattern = f.opt("pattern")
        if pattern and not compiled(pattern).search(value):
            return err("validation_invalid_format", "Invalid value format.")
        return None

    def to_db(self, f: Field, value: Any, dialect: str) -> Any:
        if isinstance(value, PlainPassword):
            from ....tools.passwords import hash_password  # argon2 loads on first use

            return hash_password(str(value)) if value else ""
        return value

    def settings_errors(self, f: Field, collection: Collection) -> dict[str, FieldErr]:
        errors: dict[str, FieldErr] = {}
        if f.opt("min") < 0:
            errors["min"] = err(
                "validation_min_greater_equal_than_required", "Must be no less than 0.", threshold=0
            )
        if f.opt("max") > self.MAX_LENGTH:
            errors["max"] = err(
                "validation_max_less_equal_than_required",
                f"Must be no greater than {self.MAX_LENGTH}.",
                threshold=self.MAX_LENGTH,
            )
        pattern_problem = regex_error(f.opt("pattern"))
        if pattern_problem:
            errors["pattern"] = pattern_problem
        return errors
