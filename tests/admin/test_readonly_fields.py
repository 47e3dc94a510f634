"""What each change page lets a person edit: nothing on the read-only pages and inlines, and on
the editable pages only the fields the model lets a form edit (never an id or a timestamp)."""

from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, quote
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse

from config.admin import ReadOnlyAdminMixin
from tests.admin.factories import World

pytestmark = pytest.mark.django_db


def editable_shown(fieldsets: Any, form: Any) -> set[str]:
    return set(flatten_fieldsets(fieldsets)) & set(form.fields)


def test_only_what_a_person_may_change_is_a_form_field(
    admin_client: Client, admin_user: User, world: World
) -> None:
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    checked_pages = checked_inlines = 0
    for model, model_admin in admin.site._registry.items():
        if type(model_admin).__module__.startswith("django."):
            continue  # Django's own (users, groups)
        obj = model_admin.get_queryset(request).first()
        assert obj is not None, model
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        response = admin_client.get(reverse(f"{info}_change", args=[quote(obj.pk)]))
        assert response.status_code == 200, model
        adminform = response.context["adminform"]
        editable = editable_shown(adminform.fieldsets, adminform.form)
        if isinstance(model_admin, ReadOnlyAdminMixin):
            assert editable == set(), model
        else:
            may_edit = {field.name for field in model._meta.fields if field.editable}
            assert editable and editable <= may_edit, (model, editable)
        checked_pages += 1
        for inline in response.context["inline_admin_formsets"]:
            for form in inline.formset.forms:
                assert editable_shown(inline.fieldsets, form) == set(), inline.opts
                checked_inlines += 1
    assert checked_pages >= 8 and checked_inlines >= 3  # the world has rows of every kind
