"""InputSerializer: fields copied cheaply, yet each serializer has its own, bound to itself."""

from rest_framework import serializers

from config.api.serializers import InputSerializer, OutputSerializer


class Inner(InputSerializer):
    count = serializers.IntegerField(min_value=0)


class Outer(InputSerializer):
    name = serializers.CharField(max_length=5)
    tags = serializers.ListField(child=serializers.CharField(max_length=3))
    inner = Inner()


def test_each_serializer_has_its_own_fields_bound_to_itself() -> None:
    first, second = Outer(data={}), Outer(data={})

    for name in ("name", "tags", "inner"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    first_inner, second_inner = first.fields["inner"], second.fields["inner"]
    assert isinstance(first_inner, Inner) and isinstance(second_inner, Inner)
    assert first_inner.fields["count"] is not second_inner.fields["count"]
    assert Outer._declared_fields["name"].parent is None  # the class's own fields stay unbound


def test_validation_of_one_does_not_leak_into_another() -> None:
    bad = Outer(data={"name": "too long", "tags": ["abcd"], "inner": {"count": -1}})
    good = Outer(data={"name": "ok", "tags": ["a"], "inner": {"count": 2}})

    assert not bad.is_valid()
    assert good.is_valid(), good.errors
    assert set(bad.errors) == {"name", "tags", "inner"}
    assert good.validated_data == {"name": "ok", "tags": ["a"], "inner": {"count": 2}}
    again = Outer(data={"name": "ok", "tags": ["a"], "inner": {"count": -5}})
    assert not again.is_valid() and set(again.errors) == {"inner"}


class Named(OutputSerializer):
    name = serializers.CharField(source="title")
    shouted = serializers.SerializerMethodField()

    def get_shouted(self, instance: dict[str, str]) -> str:
        return instance["title"].upper() + self.context.get("mark", "")


class Listing(OutputSerializer):
    items = Named(many=True)


def test_an_output_serializer_renders_each_call_with_its_own_context() -> None:
    assert Named.render({"title": "a"}, mark="!") == {"name": "a", "shouted": "A!"}
    assert Named.render({"title": "b"}) == {"name": "b", "shouted": "B"}
    assert Listing.render({"items": [{"title": "c"}, {"title": "d"}]}, mark="?") == {
        "items": [{"name": "c", "shouted": "C?"}, {"name": "d", "shouted": "D?"}]
    }
