"""The checks of a text's `{{variables}}` (names valid for the parameter format, numbered without
gaps) and of the examples Meta's reviewers need for them."""

from __future__ import annotations

from typing import Any

from whatsapp.message_templates.rules.limits import (
    NAMED_RE,
    POSITIONAL_RE,
    Problem,
    join_words,
)


def check_variable_names(
    variables: list[str], fmt: str | None, where: str, label: str, problems: list[Problem]
) -> str | None:
    """Checks names, kind and numbering; returns the kind in use ("POSITIONAL"/"NAMED") when consistent."""
    if not variables:
        return None
    bad = [v for v in dict.fromkeys(variables) if not (POSITIONAL_RE.fullmatch(v) or NAMED_RE.fullmatch(v))]
    for variable in bad:
        problems.append(
            Problem(
                where,
                f"{{{{{variable}}}}} is not a valid variable: use {{{{1}}}}, {{{{2}}}}… or a name made of "
                "lowercase letters, digits and underscores that starts with a letter.",
            )
        )
    positional = [v for v in variables if POSITIONAL_RE.fullmatch(v)]
    named = [v for v in variables if NAMED_RE.fullmatch(v)]
    if positional and named:
        problems.append(
            Problem(where, f"{label} mixes numbered variables like {{{{1}}}} and named variables; use one kind.")
        )
        return None
    if bad:
        return None
    kind = "POSITIONAL" if positional else "NAMED"
    if fmt is not None and kind != fmt:
        if kind == "NAMED":
            message = f"{label} uses named variables but the template's parameter format is POSITIONAL."
        else:
            message = f"{label} uses numbered variables but the template's parameter format is NAMED."
        problems.append(Problem(where, message))
    if kind == "POSITIONAL":
        numbers = {int(v) for v in positional}
        missing = [f"{{{{{n}}}}}" for n in range(1, max(numbers) + 1) if n not in numbers]
        if missing:
            verb = "is" if len(missing) == 1 else "are"
            problems.append(
                Problem(
                    where,
                    f"{label} variables must be numbered from {{{{1}}}} without gaps: "
                    f"{join_words(missing)} {verb} missing.",
                )
            )
    return kind


def check_examples(
    component: dict, variables: list[str], kind: str | None, section: str, where: str, problems: list[Problem]
) -> None:
    """Meta's reviewers need one sample value per variable, and nothing more."""
    example = component.get("example")
    if example is not None and not isinstance(example, dict):
        problems.append(Problem(where, f"The {section} example must be an object."))
        return
    example = example or {}
    distinct = list(dict.fromkeys(variables))
    positional_key, named_key = f"{section}_text", f"{section}_text_named_params"
    if not distinct:
        if example.get(positional_key) or example.get(named_key):
            problems.append(Problem(where, f"The {section} has no variables, so it must not have example values."))
        return
    if kind == "POSITIONAL":
        values = example.get(positional_key)
        if section == "body" and isinstance(values, list) and values and isinstance(values[0], list):
            values = values[0]  # the body's examples are one row: [["Ana", "#123"]]
        if not values:
            problems.append(
                Problem(
                    where,
                    f"Add an example value for each {section} variable "
                    f"({', '.join('{{' + v + '}}' for v in distinct)}) so Meta can review the template.",
                )
            )
            return
        if not isinstance(values, list) or not all(isinstance(value, str) and value.strip() for value in values):
            problems.append(Problem(where, f"The {section} example values must be non-empty text."))
            return
        if len(values) != len(distinct):
            problems.append(
                Problem(
                    where,
                    f"The {section} has {len(distinct)} variable{'s' if len(distinct) != 1 else ''} "
                    f"but {len(values)} example value{'s' if len(values) != 1 else ''}; give exactly one per variable.",
                )
            )
    elif kind == "NAMED":
        entries = example.get(named_key) or []
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            problems.append(Problem(where, f"The {section} named examples must be a list of objects."))
            return
        given: dict[str, Any] = {}
        for entry in entries:
            if not isinstance(entry.get("param_name"), str):
                problems.append(Problem(where, f"Each {section} named example needs a “param_name”."))
                return
            given[entry["param_name"]] = entry.get("example")
        for variable in distinct:
            value = given.get(variable)
            if not isinstance(value, str) or not value.strip():
                problems.append(Problem(where, f"Add an example value for {{{{{variable}}}}}."))
        for name in given:
            if name not in distinct:
                problems.append(
                    Problem(where, f"The example for {{{{{name}}}}} does not match any variable in the {section}.")
                )
