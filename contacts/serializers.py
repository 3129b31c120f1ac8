"""Input and output shapes of the contacts API (contacts/api.py; ContactOutput also
compliance/contact_api.py's)."""

from __future__ import annotations

from rest_framework import serializers

from contacts.models import ContactImport


class ContactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    phone_hint = serializers.CharField()
    country = serializers.CharField()
    calling_code = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()
    language = serializers.CharField()
    timezone = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    attributes = serializers.DictField()
    source = serializers.CharField()
    consent_state = serializers.CharField()
    consent_changed_at = serializers.DateTimeField(allow_null=True)
    last_inbound_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    erased_at = serializers.DateTimeField(allow_null=True)


class RevealOutput(serializers.Serializer):
    phone = serializers.CharField()


class ListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    size = serializers.IntegerField(required=False)
    created_at = serializers.DateTimeField()


class ListInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)


class MembersInput(serializers.Serializer):
    contact_ids = serializers.ListField(child=serializers.IntegerField(), max_length=10_000)


class CountOutput(serializers.Serializer):
    count = serializers.IntegerField()


class SegmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    filters = serializers.DictField()
    updated_at = serializers.DateTimeField()


class SegmentInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    filters = serializers.DictField()


class AttributeOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.CharField()


class AttributeInput(serializers.Serializer):
    key = serializers.CharField(max_length=64, required=False, allow_blank=True)
    label = serializers.CharField(max_length=120)
    kind = serializers.CharField(max_length=16)


class ImportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    filename = serializers.CharField()
    size_bytes = serializers.IntegerField()
    encoding = serializers.CharField()
    delimiter = serializers.CharField()
    header = serializers.ListField(child=serializers.CharField())
    mapping = serializers.DictField()
    total_rows = serializers.IntegerField()
    processed_rows = serializers.IntegerField()
    progress_percent = serializers.IntegerField()
    created_count = serializers.IntegerField()
    updated_count = serializers.IntegerField()
    skipped_count = serializers.IntegerField()
    invalid_count = serializers.IntegerField()
    duplicate_count = serializers.IntegerField()
    failure = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportUploadInput(serializers.Serializer):
    file = serializers.FileField()


class ImportConfigureInput(serializers.Serializer):
    mapping = serializers.DictField(child=serializers.CharField())
    on_existing = serializers.ChoiceField(choices=ContactImport.OnExisting.choices, default="update")
    default_country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    tags_to_add = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)
    contact_list_id = serializers.IntegerField(required=False, allow_null=True)
    consent_column = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    consent_declared = serializers.BooleanField(required=False, default=False)
    consent_source = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    consent_collected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
