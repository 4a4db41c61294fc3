"""Monitoring dashboard: indicators, durability curves, the waiting list and the monthly report."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from matching.services import durability, group_activities, referral_funnel, reports, trends, waiting
from matching.services.periods import LAST_DAY, ZONE, Period, month, supported
from matching.store import TARGET_GROUPS, utcnow

from . import labels, report_pdf, staff_scope
from . import labels as labels_module
from .auth import roles_required
from .charts import survival_chart, trend_chart
from .db import db_session
from .matchlabels import UNMATCHED

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
VIEWERS = ("coordinator", "admin", "analyst")
NAMES_VISIBLE_TO = ("coordinator", "admin")

INDICATORS: list[tuple[str, Any, str]] = [
    ("volunteers_registered", _l("Vrijwilligers ingeschreven"), "count"),
    ("volunteers_active", _l("Vrijwilligers actief"), "count"),
    ("volunteers_new", _l("Nieuwe vrijwilligers"), "count"),
    ("volunteers_returning", _l("Teruggekeerde vrijwilligers"), "count"),
    ("residents_waiting", _l("Deelnemers op de wachtlijst"), "count"),
    ("waiting_days_median", _l("Wachttijd in dagen, mediaan"), "number"),
    ("waiting_days_p90", _l("Wachttijd in dagen, 90e percentiel"), "number"),
    ("proposals", _l("Voorstellen"), "count"),
    ("decided", _l("Besluiten op voorstellen"), "count"),
    ("accepted", _l("Voorstellen geaccepteerd"), "count"),
    ("declined", _l("Voorstellen afgewezen"), "count"),
    ("acceptance_rate", _l("Acceptatiegraad"), "share"),
    ("active_matches", _l("Actieve koppelingen"), "count"),
    ("durable_3m_eligible", _l("Koppelingen die 3 maanden oud werden"), "count"),
    ("durable_3m", _l("Duurzaam na 3 maanden"), "count"),
    ("durable_3m_share", _l("Aandeel duurzaam na 3 maanden"), "share"),
    ("durable_6m_eligible", _l("Koppelingen die 6 maanden oud werden"), "count"),
    ("durable_6m", _l("Duurzaam na 6 maanden"), "count"),
    ("durable_6m_share", _l("Aandeel duurzaam na 6 maanden"), "share"),
    ("check_ins_sent", _l("Check-ins verstuurd"), "count"),
    ("check_ins_answered", _l("Check-ins beantwoord"), "count"),
    ("check_in_response_rate", _l("Responspercentage check-ins"), "share"),
    ("at_risk", _l("Koppelingen met risico"), "count"),
    ("endings_total", _l("Beëindigde koppelingen"), "count"),
    ("loneliness_measured", _l("Eenzaamheid gemeten bij intake"), "count"),
    ("loneliness_intake_mean", _l("Eenzaamheidsscore bij intake, gemiddeld (0-6)"), "number"),
]
FOLLOW_UPS = [
    ("loneliness_change_6m", _l("Verandering eenzaamheid na 6 maanden")),
    ("loneliness_change_12m", _l("Verandering eenzaamheid na 12 maanden")),
]
TARGET_GROUP_LABELS = {**labels.TARGET_GROUPS, **labels.UNKNOWN}
END_REASON_LABELS = {**labels.END_REASONS, **labels.UNKNOWN}
UNMATCHED_LABELS = UNMATCHED
SPLIT_LABELS = {
    "all": _l("Alle koppelingen"),
    "target_group": _l("Per doelgroep"),
    "score_band": _l("Per score"),
    "distance_band": _l("Per afstand"),
}
BAND_LABELS = {
    "all": _l("Alle koppelingen"),
    "lt60": _l("Score onder 60"),
    "60_80": _l("Score 60 tot 80"),
    "ge80": _l("Score 80 of hoger"),
    "lt1": _l("Minder dan 1 km"),
    "1_3": _l("1 tot 3 km"),
    "ge3": _l("3 km of meer"),
    **TARGET_GROUP_LABELS,
}


@dataclass
class Filters:
    """The period and filters read from the query string, with what could not be read."""

    period: Period
    wijk: str | None
    target_group: str | None
    errors: list[str] = field(default_factory=list)

    @property
    def last_day(self) -> date:
        return self.period.end - timedelta(days=1)

    def query(self, **extra: str) -> dict[str, str]:
        args = {"van": self.period.start.isoformat(), "tot": self.last_day.isoformat()}
        if self.wijk:
            args["wijk"] = self.wijk
        if self.target_group:
            args["doelgroep"] = self.target_group
        return {**args, **extra}


def _today() -> date:
    return utcnow().astimezone(ZONE).date()


def _year_before(day: date) -> date:
    return day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)


def query_date(name: str, default: date | None, errors: list[str]) -> date | None:
    """A report day from the query string: the default when empty; refused (with a Dutch
    message in errors) unless it and the day after it are supported dates."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not supported(day) or day == LAST_DAY:
        errors.append(_("Vul een geldige datum in (jjjj-mm-dd)."))
        return default
    return day


def _filters() -> Filters:
    """The period (default: the last 12 months up to today) and the wijk and target group."""
    today, errors = _today(), []
    start = query_date("van", _year_before(today) + timedelta(days=1), errors)
    last = query_date("tot", today, errors)
    if last < start:
        errors.append(_("De einddatum ligt voor de begindatum."))
        start, last = _year_before(today) + timedelta(days=1), today
    wijk = request.args.get("wijk", "").strip()[:80] or None
    group = request.args.get("doelgroep", "").strip() or None
    if group is not None and group not in TARGET_GROUPS:
        errors.append(_("Kies een bestaande doelgroep."))
        group = None
    return Filters(Period(start, last + timedelta(days=1), utcnow()), wijk, group, errors)


def show(value: Any, kind: str) -> str:
    """A figure as text: hidden counts as '<5', hidden derived figures as 'n<5'."""
    if kind == "count":
        return "<5" if value is None else str(value)
    if value is None:
        return "n<5"
    if kind == "share":
        return format_percent(value, "#,##0.0%")
    return format_decimal(value, "#,##0.#")


def decline_label(text: str) -> str:
    """A decline reason as typed by staff, or the name of the rest."""
    if text == reports.OTHER:
        return _("Overige redenen (elk minder dan 5 keer)")
    return _("Geen reden opgegeven") if text == reports.UNKNOWN else text


def raw(value: Any, kind: str) -> Any:
    """A figure for a spreadsheet: numbers stay numbers, hidden ones read as on the page."""
    return show(value, kind) if value is None else value


def _indicator_rows(result: dict[str, Any], *, wijken: bool = True, groups: bool = True,
                    cell: Any = show) -> list[list[Any]]:
    """The indicators as a table: a row per indicator, a column per group."""
    return _indicator_table(result, wijken=wijken, groups=groups, cell=cell)[0]


def _indicator_table(result: dict[str, Any], *, wijken: bool = True, groups: bool = True,
                     cell: Any = show) -> tuple[list[list[Any]], list[str]]:
    """The indicator rows and each row's kind ('count', 'share', 'number' or 'text')."""
    columns: list[tuple[str, dict[str, Any]]] = [(_("Totaal"), result["overall"])]
    if wijken:
        columns += [(name, values) for name, values in result["by_wijk"].items()]
    if groups:
        columns += [(str(TARGET_GROUP_LABELS.get(code, code)), values)
                    for code, values in result["by_target_group"].items()]
    rows: list[list[Any]] = [[_("Indicator"), *(title for title, _v in columns)]]
    kinds = ["text"]
    rows.append([_("Koppelrondes"), result["runs"], *([""] * (len(columns) - 1))])
    kinds.append("runs")
    for key, label, kind in INDICATORS:
        rows.append([str(label), *(cell(v[key], kind) if key in v else _("n.v.t.")
                                   for _t, v in columns)])
        kinds.append(kind)
    for key, label in FOLLOW_UPS:
        rows.append([str(label), *([_("nog geen metingen")] * len(columns))])
        kinds.append("text")
    for code in result["overall"]["endings"]:
        label = _("Beëindigd: %(reason)s", reason=END_REASON_LABELS.get(code, code))
        rows.append([label, *(cell(v["endings"].get(code, 0), "count") for _t, v in columns)])
        kinds.append("count")
    for text in result["overall"]["decline_reasons"]:
        rows.append([_("Afgewezen: %(reason)s", reason=decline_label(text)),
                     *(cell(v["decline_reasons"].get(text, 0), "count") for _t, v in columns)])
        kinds.append("count")
    return rows, kinds


def _download(body: str | bytes, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("")
@roles_required(*VIEWERS)
def index() -> str:
    filters = _filters()
    session = db_session()
    result = reports.indicators(session, filters.period, wijk=filters.wijk,
                                target_group=filters.target_group)
    every = durability.every_split(session, filters.period, wijk=filters.wijk,
                                   target_group=filters.target_group)
    splits = [(split, curves, survival_chart(curves["groups"])) for split, curves in every.items()]
    today = _today()
    found = trends.trends(session, today, wijk=filters.wijk, target_group=filters.target_group)
    labels = [month.label for month in found.months]
    trend_charts = [
        (key, title, trend_chart(labels, values, share=is_share), values, is_share)
        for key, title, values, is_share in (
            ("new", _("Nieuwe koppelingen per maand"), found.new_matches, False),
            ("waiting", _("Wachtenden aan het eind van de maand"), found.waiting, False),
            ("durable-3m", _("Aandeel duurzaam na 3 maanden (91 dagen)"), found.durable_3m, True),
            ("durable-6m", _("Aandeel duurzaam na 6 maanden (182 dagen)"), found.durable_6m, True),
        )
    ]
    return render_template(
        "dashboard/index.html", filters=filters, result=result, splits=splits,
        tiles=trends.headline(session, today, found, wijk=filters.wijk,
                              target_group=filters.target_group),
        trend_charts=trend_charts, months=labels,
        indicators=INDICATORS, follow_ups=FOLLOW_UPS, wijken=reports.neighbourhoods(session),
        target_groups=TARGET_GROUPS, show=show, labels=_labels(), decline_label=decline_label,
        funnel=referral_funnel.funnel(session, filters.period), sources=labels_module.REFERRAL_SOURCES,
    )


def _labels() -> dict[str, dict[str, Any]]:
    return {"target_group": TARGET_GROUP_LABELS, "end_reason": END_REASON_LABELS,
            "unmatched": UNMATCHED_LABELS, "split": SPLIT_LABELS, "band": BAND_LABELS}


@bp.get("/indicatoren.csv")
@roles_required(*VIEWERS)
def indicators_csv() -> Response:
    filters = _filters()
    result = reports.indicators(db_session(), filters.period, wijk=filters.wijk,
                                target_group=filters.target_group)
    name = f"indicatoren-{filters.period.start}-{filters.last_day}.csv"
    return _download(reports.table_csv(_indicator_rows(result)), name, "text/csv")


@bp.get("/duurzaamheid.csv")
@roles_required(*VIEWERS)
def durability_csv() -> Response:
    filters = _filters()
    split = request.args.get("indeling", "all")
    if split not in durability.SPLITS:
        abort(404)
    curves = durability.curves(db_session(), filters.period, split, wijk=filters.wijk,
                               target_group=filters.target_group)
    rows: list[list[Any]] = [[_("Groep"), _("Dagen"), _("Nog samen"), _("Ondergrens 95%"),
                              _("Bovengrens 95%"), _("Aantal gevolgd")]]
    for group in curves["groups"]:
        label = str(BAND_LABELS.get(group["key"], group["key"]))
        if group["suppressed"]:
            rows.append([label, "", "", "", "", "<5"])
        for point in group["points"]:
            rows.append([label, point["day"], point["survival"], point["low"], point["high"],
                         point["at_risk"]])
    name = f"duurzaamheid-{split}-{filters.period.start}-{filters.last_day}.csv"
    return _download(reports.table_csv(rows), name, "text/csv")


@bp.get("/wachtlijst")
@roles_required(*VIEWERS)
def waiting_list() -> str:
    filters = _filters()
    session, today = db_session(), _today()
    summary = waiting.waiting_summary(session, today, wijk=filters.wijk,
                                      target_group=filters.target_group)
    people = None
    if current_user.role in NAMES_VISIBLE_TO:
        people = waiting.waiting_list(session, today, wijk=filters.wijk,
                                      target_group=filters.target_group, with_names=True,
                                      scope=staff_scope.scope())
    return render_template(
        "dashboard/waiting.html", filters=filters, summary=summary, people=people,
        wijken=reports.neighbourhoods(session), target_groups=TARGET_GROUPS, labels=_labels(),
        show=show, activities=group_activities.counts_per_wijk(session),
    )


def _report_month() -> Period:
    raw = request.args.get("maand", "").strip()
    now = utcnow()
    if not raw:
        first = _today().replace(day=1)
        previous = first - timedelta(days=1)
        raw = f"{previous.year:04d}-{previous.month:02d}"
    try:
        return month(raw, now)
    except ValueError:
        abort(404)


@bp.get("/maandrapport")
@roles_required(*VIEWERS)
def monthly_report() -> str:
    return _monthly_page(_report_month())


def _monthly_page(period: Period) -> str:
    result = reports.indicators(db_session(), period)
    rows, kinds = _indicator_table(result, groups=False)
    return render_template("dashboard/monthly.html", period=period, result=result, rows=rows,
                           kinds=kinds, maand=period.start.strftime("%Y-%m"),
                           last_day=period.end - timedelta(days=1))


@bp.get("/maandrapport.<fmt>")
@roles_required(*VIEWERS)
def monthly_report_file(fmt: str) -> Response:
    period = _report_month()
    name = f"maandrapport-{period.start.strftime('%Y-%m')}"
    if fmt == "pdf":
        return _download(report_pdf.pdf(_monthly_page(period)), f"{name}.pdf", "application/pdf")
    result = reports.indicators(db_session(), period)
    rows = _indicator_rows(result, groups=False, cell=raw if fmt == "xlsx" else show)
    if fmt == "csv":
        return _download(reports.table_csv(rows), f"{name}.csv", "text/csv")
    if fmt == "xlsx":
        return _download(
            reports.table_xlsx(rows, title=name), f"{name}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    abort(404)
