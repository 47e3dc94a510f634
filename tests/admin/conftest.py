import pytest

from tests.admin.factories import World, build_world

CONTACT_SUBMISSIONS = "/admin/actions/contactsubmission/"
EXPORT = "/admin/actions/contactsubmission/export.csv"
SUMMARY = "/admin/actions/contactsubmission/summary/"


@pytest.fixture
def world(db: None) -> World:
    return build_world()
