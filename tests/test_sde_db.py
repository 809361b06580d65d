"""The SDE database contract: unmanaged models, never migrated, never written."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import OperationalError, connections, transaction

from sde.models import InvType, MapSolarSystemJump
from sde.router import SdeRouter
from tests.conftest import sde_db


def test_every_sde_model_is_unmanaged_and_routed_to_the_sde_alias():
    router = SdeRouter()
    models = list(apps.get_app_config("sde").get_models())
    assert len(models) >= 18
    for model in models:
        assert model._meta.managed is False, model
        assert router.db_for_read(model) == "sde"
        assert router.db_for_write(model) == "sde"


def test_nothing_is_ever_migrated_into_or_out_of_the_sde():
    router = SdeRouter()
    assert router.allow_migrate("sde", "auth") is False
    assert router.allow_migrate("sde", "sde") is False
    assert router.allow_migrate("default", "sde") is False
    assert router.allow_migrate("default", "auth") is True


@pytest.mark.django_db
def test_no_migration_is_missing():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@sde_db
def test_the_sde_connection_refuses_writes():
    with pytest.raises(OperationalError, match="readonly"), transaction.atomic(using="sde"):
        InvType.objects.filter(type_id=34).update(type_name="Not Tritanium")
    assert InvType.objects.get(type_id=34).type_name == "Tritanium"


@sde_db
def test_exact_fuzzwork_table_names_are_read():
    with connections["sde"].cursor() as cursor:
        cursor.execute('SELECT "typeName" FROM "invTypes" WHERE "typeID" = 34')
        assert cursor.fetchone() == ("Tritanium",)
    assert InvType._meta.db_table == "invTypes"
    assert InvType._meta.get_field("type_name").column == "typeName"


@sde_db
def test_composite_keys_read_stargates_both_ways():
    jita, perimeter = 30000142, 30000144
    assert MapSolarSystemJump.objects.filter(pk=(jita, perimeter)).exists()
    assert MapSolarSystemJump.objects.filter(pk=(perimeter, jita)).exists()
