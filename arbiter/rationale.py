"""Plain-language rationale of a look's decision, in English, Polish and Russian.

Generated from the numbers only: what was compared, what was found, what it rules out,
and what the committee should do next. Numbers follow the language: a decimal point and
comma thousands in English; a decimal comma and no-break-space thousands in Polish and
Russian. Effects carry the metric's unit — percentage points for rates, the protocol's
currency for money — as in "+3.1 pp deal conversion, 95% CI [0.8, 5.4]".
"""

from __future__ import annotations

import math
from typing import Any

from experiments.protocol import Protocol

__all__ = ["LANGUAGES", "format_number", "rationale"]

LANGUAGES = ("en", "pl", "ru")
NBSP = "\u00a0"

T: dict[str, dict[str, str]] = {
    "en": {
        "compared": "Compared {a} ({pa}) with {b} ({pb}) on {metric}, the shared KPI, over {n} "
        "leads whose {w}-day attribution window had closed (look {k}, {t} of the "
        "planned information).",
        "found": "{pw_s} {w_name} brought {effect} compared with {pl_s} {l_name} ({conf} CI "
        "[{lo}, {hi}]); the difference crossed the pre-registered boundary (adjusted "
        "p {p}).",
        "rules_out": "This rules out that {l_name} is as good or better: the advantage is at "
        "least {lo_effect}.",
        "guard_ok": "Guardrails held: {names}.",
        "guard_none": "No guardrail was pre-registered.",
        "guard_warn": "Caution: for {names} it was not shown that any loss stays within the "
        "margin (no significant harm was found either).",
        "next_winner": "Next: adopt {w_name} as the standard; {pl} may bring a new proposal to "
        "a new dispute.",
        "also": "{names} also beat the control; the difference between them was not tested.",
        "futility": "The difference, {effect} ({conf} CI [{lo}, {hi}]), stayed inside the "
        "futility region at look {k}: the pre-registered minimum effect of {mde} "
        "is unlikely to be reached even with the full sample.",
        "equivalence": "The maximum was reached; the difference is {effect} ({conf} CI [{lo}, "
        "{hi}]), entirely within ±{mde}, the smallest difference the committee "
        "said would matter.",
        "rules_out_both": "The data rule out differences beyond {lo} and {hi}.",
        "next_nmd": "Next: neither side wins this dispute; keep the cheaper proposal and stop "
        "the test.",
        "inconclusive": "The maximum {limit} was reached without a decision: the difference is "
        "{effect} ({conf} CI [{lo}, {hi}]).",
        "rules_out_range": "Effects outside [{lo}, {hi}] are ruled out, but within that range "
        "the proposals cannot be told apart.",
        "next_inconclusive": "Next: the committee may register a new dispute with a larger "
        "sample, or choose on other grounds.",
        "escalated": "{pw_s} {w_name} beat {pl_s} {l_name} on {metric} ({effect}), but it "
        "significantly harms the guardrail {g}: {harm} beyond the margin of "
        "{margin}.",
        "next_escalated": "The winner is not declared. Next: the committee decides whether the "
        "gain is worth the harm.",
        "halted": "Randomisation looks broken: the arm sizes ({counts}) differ from the "
        "planned split more than chance allows (sample-ratio test p {p}).",
        "next_halted": "No verdict can be drawn from these data. Next: find the cause "
        "(assignment, import filters, duplicates) before a new dispute.",
        "stale": "The latest data are {age} days old, more than the {limit} days the protocol "
        "allows: no decision is taken until fresh data arrive.",
        "continue": "Look {k}: {n} mature leads ({t} of the planned information), {pending} "
        "still pending.",
        "minimum_duration": "Nothing is decided before day {days} (full business weeks); this "
        "is day {day}.",
        "minimum_sample": "Nothing is decided before {min} mature leads.",
        "no_mature_data": "No lead has completed its attribution window yet.",
        "boundary_not_crossed": "The difference so far, {effect}, has not crossed the "
        "boundary (|z| = {z} against {c}); the test continues.",
        "sample": "sample",
        "duration": "duration",
        "pp": "pp",
        "per": "",
        "p_below": "< {v}",
        "p_eq": "= {v}",
    },
    "pl": {
        "compared": "Porównano {a} ({pa}) z {b} ({pb}) pod względem wskaźnika „{metric}” "
        "(wspólny KPI) na {n} leadach, których {w}-dniowe okno atrybucji już się "
        "zamknęło (przegląd {k}, {t} planowanej informacji).",
        "found": "Propozycja strony {pw} ({w_name}) dała {effect} względem propozycji strony "
        "{pl} ({l_name}) ({conf} CI [{lo}; {hi}]); różnica przekroczyła "
        "zarejestrowaną z góry granicę (skorygowane p {p}).",
        "rules_out": "Wynik wyklucza, że {l_name} jest równie dobra lub lepsza: przewaga "
        "wynosi co najmniej {lo_effect}.",
        "guard_ok": "Wskaźniki ochronne nie zostały naruszone: {names}.",
        "guard_none": "Nie zarejestrowano wskaźników ochronnych.",
        "guard_warn": "Uwaga: dla {names} nie wykazano, że ewentualna strata mieści się w "
        "marginesie (istotnej szkody też nie stwierdzono).",
        "next_winner": "Dalej: przyjąć {w_name} jako standard; strona {pl} może zgłosić nową "
        "propozycję w nowym sporze.",
        "also": "{names} również pokonały wariant kontrolny; różnicy między nimi nie testowano.",
        "futility": "Różnica, {effect} ({conf} CI [{lo}; {hi}]), pozostała w obszarze "
        "bezcelowości w przeglądzie {k}: zarejestrowany minimalny efekt {mde} "
        "jest mało prawdopodobny nawet przy pełnej próbie.",
        "equivalence": "Osiągnięto maksimum; różnica wynosi {effect} ({conf} CI [{lo}; {hi}]) "
        "i w całości mieści się w ±{mde}, najmniejszej różnicy istotnej dla "
        "komisji.",
        "rules_out_both": "Dane wykluczają różnice poza {lo} i {hi}.",
        "next_nmd": "Dalej: żadna ze stron nie wygrywa tego sporu; zostawić tańszą propozycję "
        "i zakończyć test.",
        "inconclusive": "Osiągnięto maksymalną {limit} bez rozstrzygnięcia: różnica wynosi "
        "{effect} ({conf} CI [{lo}; {hi}]).",
        "rules_out_range": "Efekty spoza [{lo}; {hi}] są wykluczone, ale w tym zakresie "
        "propozycji nie da się rozróżnić.",
        "next_inconclusive": "Dalej: komisja może zarejestrować nowy spór z większą próbą albo "
        "wybrać na innej podstawie.",
        "escalated": "Propozycja strony {pw} ({w_name}) pokonała propozycję strony {pl} "
        "({l_name}) we wskaźniku „{metric}” ({effect}), ale istotnie szkodzi "
        "wskaźnikowi ochronnemu „{g}”: {harm} ponad margines {margin}.",
        "next_escalated": "Zwycięzca nie zostaje ogłoszony. Dalej: komisja decyduje, czy zysk "
        "jest wart szkody.",
        "halted": "Randomizacja wygląda na zepsutą: liczebności grup ({counts}) odbiegają od "
        "planowanego podziału bardziej, niż pozwala przypadek (test proporcji próby "
        "p {p}).",
        "next_halted": "Z tych danych nie można wydać werdyktu. Dalej: znaleźć przyczynę "
        "(przydział, filtry importu, duplikaty) przed nowym sporem.",
        "stale": "Najnowsze dane mają {age} dni, więcej niż {limit} dni dopuszczone przez "
        "protokół: decyzja zapadnie dopiero po otrzymaniu świeżych danych.",
        "continue": "Przegląd {k}: {n} dojrzałych leadów ({t} planowanej informacji), {pending} "
        "jeszcze w toku.",
        "minimum_duration": "Nic nie jest rozstrzygane przed dniem {days} (pełne tygodnie "
        "robocze); to dzień {day}.",
        "minimum_sample": "Nic nie jest rozstrzygane przed {min} dojrzałymi leadami.",
        "no_mature_data": "Żaden lead nie zakończył jeszcze okna atrybucji.",
        "boundary_not_crossed": "Dotychczasowa różnica, {effect}, nie przekroczyła granicy "
        "(|z| = {z} wobec {c}); test trwa dalej.",
        "sample": "próbę",
        "duration": "długość",
        "pp": "p.p.",
        "per": "",
        "p_below": "< {v}",
        "p_eq": "= {v}",
    },
    "ru": {
        "compared": "Сравнили {a} ({pa}) и {b} ({pb}) по показателю «{metric}» (общий KPI) "
        "на {n} лидах, у которых закрылось {w}-дневное окно атрибуции (просмотр "
        "{k}, {t} запланированной информации).",
        "found": "Предложение стороны {pw} ({w_name}) дало {effect} по сравнению с "
        "предложением стороны {pl} ({l_name}) ({conf} ДИ [{lo}; {hi}]); разница "
        "пересекла заранее зарегистрированную границу (скорректированное p {p}).",
        "rules_out": "Результат исключает, что {l_name} не хуже: преимущество составляет не "
        "менее {lo_effect}.",
        "guard_ok": "Защитные метрики не нарушены: {names}.",
        "guard_none": "Защитные метрики не регистрировались.",
        "guard_warn": "Внимание: для {names} не доказано, что возможные потери в пределах "
        "допуска (значимого вреда тоже не найдено).",
        "next_winner": "Далее: принять {w_name} как стандарт; сторона {pl} может вынести новое "
        "предложение в новом споре.",
        "also": "{names} тоже превзошли контроль; разница между ними не проверялась.",
        "futility": "Разница, {effect} ({conf} ДИ [{lo}; {hi}]), осталась в зоне "
        "бесперспективности на просмотре {k}: зарегистрированный минимальный "
        "эффект {mde} маловероятен даже на полной выборке.",
        "equivalence": "Достигнут максимум; разница равна {effect} ({conf} ДИ [{lo}; {hi}]) и "
        "целиком лежит в пределах ±{mde} — наименьшей разницы, важной для "
        "комиссии.",
        "rules_out_both": "Данные исключают разницу за пределами {lo} и {hi}.",
        "next_nmd": "Далее: ни одна сторона не выигрывает этот спор; оставить более дешёвое "
        "предложение и остановить тест.",
        "inconclusive": "Достигнута максимальная {limit} без решения: разница равна {effect} "
        "({conf} ДИ [{lo}; {hi}]).",
        "rules_out_range": "Эффекты вне [{lo}; {hi}] исключены, но внутри этого диапазона "
        "предложения неразличимы.",
        "next_inconclusive": "Далее: комиссия может зарегистрировать новый спор с большей "
        "выборкой или выбрать по другим основаниям.",
        "escalated": "Предложение стороны {pw} ({w_name}) превзошло предложение стороны {pl} "
        "({l_name}) по показателю «{metric}» ({effect}), но значимо вредит "
        "защитной метрике «{g}»: {harm} сверх допуска {margin}.",
        "next_escalated": "Победитель не объявляется. Далее: комиссия решает, стоит ли выигрыш "
        "такого вреда.",
        "halted": "Рандомизация выглядит нарушенной: размеры групп ({counts}) отличаются от "
        "запланированного соотношения сильнее, чем допускает случай (тест "
        "соотношения выборок p {p}).",
        "next_halted": "По этим данным вердикт вынести нельзя. Далее: найти причину "
        "(распределение, фильтры импорта, дубликаты) до нового спора.",
        "stale": "Последним данным {age} дн., больше допустимых протоколом {limit} дн.: решение "
        "не принимается, пока не поступят свежие данные.",
        "continue": "Просмотр {k}: {n} созревших лидов ({t} запланированной информации), "
        "{pending} ещё в окне.",
        "minimum_duration": "До дня {days} (полные рабочие недели) ничего не решается; сейчас "
        "день {day}.",
        "minimum_sample": "Ничего не решается до {min} созревших лидов.",
        "no_mature_data": "Ни один лид ещё не прошёл окно атрибуции.",
        "boundary_not_crossed": "Текущая разница, {effect}, не пересекла границу (|z| = {z} "
        "против {c}); тест продолжается.",
        "sample": "выборка",
        "duration": "длительность",
        "pp": "п.п.",
        "per": "",
        "p_below": "< {v}",
        "p_eq": "= {v}",
    },
}


def format_number(value: float, language: str, digits: int = 1) -> str:
    """A number for the language: ``1,234.5`` (en), ``1 234,5`` (pl, ru)."""
    if value is None or not math.isfinite(value):
        return "—"
    text = f"{value:,.{digits}f}"
    if language == "en":
        return text
    return text.replace(",", NBSP).replace(".", ",")


def _signed(value: float, language: str, digits: int) -> str:
    text = format_number(abs(value), language, digits)
    return ("+" if value >= 0 else "−") + text


def _scale(
    protocol: Protocol, metric_kind: str, difference: str, ratio: tuple[str | None, str | None]
) -> tuple[float, int, str]:
    """(multiplier, decimals, unit) of an effect on this metric."""
    if difference == "relative":
        return 100.0, 1, "%"
    if metric_kind == "conversion" or ratio == ("won_deals", "deals"):
        return 100.0, 1, "pp"
    if metric_kind == "revenue_per_lead" or ratio[0] == "revenue":
        return 1.0, 2, protocol.currency
    return 1.0, 3, ""


def _effect(
    protocol: Protocol,
    value: float,
    difference: str,
    language: str,
    metric: Any = None,
    signed: bool = True,
) -> str:
    metric = metric or protocol.primary
    factor, digits, unit = _scale(
        protocol, metric.kind, difference, (metric.numerator, metric.denominator)
    )
    scaled = value * factor
    if unit == protocol.currency and abs(scaled) >= 100:
        digits = 0
    number = (
        _signed(scaled, language, digits) if signed else format_number(scaled, language, digits)
    )
    if unit == "%":
        return f"{number}% {metric.name}"
    if unit == "pp":
        return f"{number} {T[language]['pp']} {metric.name}"
    if unit:
        return f"{number} {unit} {metric.name}"
    return f"{number} {metric.name}"


def _bound(protocol: Protocol, value: float, difference: str, language: str) -> str:
    factor, digits, unit = _scale(
        protocol,
        protocol.primary.kind,
        difference,
        (protocol.primary.numerator, protocol.primary.denominator),
    )
    scaled = value * factor
    if unit == protocol.currency and abs(scaled) >= 100:
        digits = 0
    return format_number(scaled, language, digits)


def _pvalue(p: float | None, language: str) -> str:
    t = T[language]
    if p is None or not math.isfinite(p):
        return t["p_eq"].format(v="—")
    if p < 0.001:
        return t["p_below"].format(v=format_number(0.001, language, 3))
    return t["p_eq"].format(v=format_number(p, language, 3))


def _percent(x: float | None, language: str, *, exact: bool = False) -> str:
    """A share as a whole percentage, or with ``exact`` one decimal when needed (97.5%)."""
    if x is None or not math.isfinite(x):
        return "—"
    value = 100 * min(x, 1.0)
    digits = 1 if exact and abs(value - round(value)) > 1e-9 else 0
    return f"{format_number(value, language, digits)}%"


def _name(protocol: Protocol, key: str) -> tuple[str, str]:
    arm = protocol.arm(key)
    return arm.name, arm.party


def possessive(name: str) -> str:
    """English possessive: "sales' proposal", "marketing's proposal"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def rationale(
    protocol: Protocol, decision: dict[str, Any], look: dict[str, Any], language: str | None = None
) -> str:
    """The rationale of ``decision`` (``serial.decision_to_json``) at ``look``
    (``serial.look_to_json``), in ``language`` (default: the protocol's)."""
    lang = language or protocol.language
    if lang not in T:
        raise ValueError(f"unknown language {lang!r}: use {', '.join(LANGUAGES)}")
    t = T[lang]
    outcome, rule = decision["outcome"], decision["rule"]
    n = sum(s.get("nobs", s.get("n", 0)) for s in look["primary"]["arms"].values())
    assigned = sum(look["assigned"].values())
    k, fraction = look["number"], look["information_fraction"]
    diff = "relative" if protocol.mde.kind == "relative" else "absolute"
    comparisons = decision.get("comparisons") or []
    mde_text = _effect(protocol, protocol.mde.value, diff, lang, signed=False)

    if outcome == "halted":
        counts = ", ".join(
            f"{key}: {format_number(v, lang, 0)}" for key, v in look["assigned"].items()
        )
        return " ".join(
            [
                t["halted"].format(
                    counts=counts, p=_pvalue(decision["health"]["sample_ratio"]["pvalue"], lang)
                ),
                t["next_halted"],
            ]
        )
    if outcome == "held":
        return t["stale"].format(
            age=format_number(look["data_age_days"] or 0, lang, 0),
            limit=protocol.limits.max_data_age_days,
        )

    first = comparisons[0] if comparisons else None
    compared = ""
    if first is not None:
        a, pa = _name(protocol, first["reference"])
        b, pb = _name(protocol, first["challenger"])
        if len(protocol.arms) > 2:
            b = ", ".join(arm.name for arm in protocol.arms if arm.key != first["reference"])
            pb = ", ".join(
                sorted({arm.party for arm in protocol.arms if arm.key != first["reference"]})
            )
        compared = t["compared"].format(
            a=a,
            pa=pa,
            b=b,
            pb=pb,
            metric=protocol.primary.name,
            n=format_number(n, lang, 0),
            w=protocol.primary.window_days,
            k=k,
            t=_percent(fraction, lang),
        )

    if outcome in ("winner", "escalated"):
        effect = decision["effect"]
        w_name, pw = _name(protocol, effect["arm"])
        l_name, pl = _name(protocol, effect["versus"])
        lo, hi = effect["ci"]
        comparison = next(
            (
                c
                for c in comparisons
                if {c["reference"], c["challenger"]} == {effect["arm"], effect["versus"]}
            ),
            first,
        )
        conf = _percent(1 - comparison["alpha"], lang, exact=True) if comparison else "—"
        effect_text = _effect(protocol, effect["estimate"], effect["difference"], lang)
        if outcome == "escalated":
            harm = next(g for g in decision["guardrails"] if g.get("harm"))
            guardrail = next(g for g in protocol.guardrails if g.name == harm["metric"])
            sign = 1 if guardrail.direction == "higher_is_better" else -1
            return " ".join(
                [
                    compared,
                    t["escalated"].format(
                        pw=pw,
                        w_name=w_name,
                        pl=pl,
                        l_name=l_name,
                        metric=protocol.primary.name,
                        pw_s=possessive(pw),
                        pl_s=possessive(pl),
                        effect=effect_text,
                        g=harm["metric"],
                        harm=_effect(
                            protocol, sign * harm["estimate"], "absolute", lang, guardrail
                        ),
                        margin=_effect(
                            protocol, harm["margin"], "absolute", lang, guardrail, signed=False
                        ),
                    ),
                    t["next_escalated"],
                ]
            )
        parts = [
            compared,
            t["found"].format(
                pw=pw,
                w_name=w_name,
                pl=pl,
                l_name=l_name,
                effect=effect_text,
                conf=conf,
                pw_s=possessive(pw),
                pl_s=possessive(pl),
                lo=_bound(protocol, lo, effect["difference"], lang),
                hi=_bound(protocol, hi, effect["difference"], lang),
                p=_pvalue(effect["pvalue"], lang),
            ),
        ]
        if math.isfinite(lo or math.nan):
            parts.append(
                t["rules_out"].format(
                    l_name=l_name, lo_effect=_effect(protocol, lo, effect["difference"], lang)
                )
            )
        if decision.get("also_beat_control"):
            parts.append(
                t["also"].format(
                    names=", ".join(
                        _name(protocol, key)[0] for key in decision["also_beat_control"]
                    )
                )
            )
        guards = decision.get("guardrails") or []
        if not protocol.guardrails:
            parts.append(t["guard_none"])
        else:
            parts.append(t["guard_ok"].format(names=", ".join(g.name for g in protocol.guardrails)))
            weak = sorted({g["metric"] for g in guards if not g.get("non_inferior")})
            if weak:
                parts.append(t["guard_warn"].format(names=", ".join(weak)))
        parts.append(t["next_winner"].format(w_name=w_name, pl=pl))
        return " ".join(p for p in parts if p)

    if first is None:
        return t["no_mature_data"]
    est = first["estimate"]
    lo, hi = first["ci"]
    conf = _percent(1 - first["alpha"], lang, exact=True)
    effect_text = _effect(protocol, est, diff, lang) if est is not None else "—"
    b_lo = _bound(protocol, lo, diff, lang) if lo is not None else "—"
    b_hi = _bound(protocol, hi, diff, lang) if hi is not None else "—"
    if outcome == "no_meaningful_difference":
        key = "futility" if rule == "futility_boundary" else "equivalence"
        return " ".join(
            [
                compared,
                t[key].format(effect=effect_text, conf=conf, lo=b_lo, hi=b_hi, k=k, mde=mde_text),
                t["rules_out_both"].format(lo=b_lo, hi=b_hi),
                t["next_nmd"],
            ]
        )
    if outcome == "inconclusive":
        limit = t["sample"] if fraction >= 1.0 else t["duration"]
        return " ".join(
            [
                compared,
                t["inconclusive"].format(
                    limit=limit, effect=effect_text, conf=conf, lo=b_lo, hi=b_hi
                ),
                t["rules_out_range"].format(lo=b_lo, hi=b_hi),
                t["next_inconclusive"],
            ]
        )
    status = t["continue"].format(
        k=k,
        n=format_number(n, lang, 0),
        t=_percent(fraction, lang),
        pending=format_number(max(assigned - n, 0), lang, 0),
    )
    if rule == "minimum_duration":
        from arbiter.verdict import minimum_days

        reason = t["minimum_duration"].format(
            days=minimum_days(protocol), day=format_number(look["elapsed_days"], lang, 0)
        )
    elif rule == "minimum_sample":
        reason = t["minimum_sample"].format(min=format_number(protocol.limits.min_sample, lang, 0))
    elif rule == "no_mature_data":
        reason = t["no_mature_data"]
    else:
        reason = t["boundary_not_crossed"].format(
            effect=effect_text,
            z=format_number(abs(first["statistic"] or 0), lang, 2),
            c=format_number(first["boundary"] or math.inf, lang, 2),
        )
    return f"{status} {reason}"
