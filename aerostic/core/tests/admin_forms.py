"""Helpers for posting Django admin change forms as a browser would."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.test import Client

from accounts.models import User


def staff_client() -> Client:
    staff = User.objects.create_superuser(email="ops@platform.test", password="a-long-passphrase-1")
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _add(data: dict, form) -> None:
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        if value is True:
            data[bound.html_name] = "on"
        elif isinstance(value, list | tuple):
            data[bound.html_name] = ",".join(str(item) for item in value)
        else:
            data[bound.html_name] = str(value)


def change_form_data(response) -> dict:
    """Everything the change page would post back unchanged: the form and every inline."""
    data: dict = {}
    _add(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        _add(data, inline.formset.management_form)
        for form in inline.formset.forms:
            _add(data, form)
    return data


def inline_prefix(response, model) -> str:
    return next(i.formset.prefix for i in response.context["inline_admin_formsets"] if i.formset.model is model)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]
