"""The workspace's inbox settings: teams, labels, quick replies, availability, the agents."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from inbox.models import Label
from inbox.serializers.common import person_name


class TeamOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()
    members = serializers.SerializerMethodField(help_text="User ids")
    created_at = serializers.DateTimeField()

    def get_members(self, team: Any) -> list[int]:
        return sorted(member.user_id for member in team.memberships.all())


class TeamInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    members = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=500)


class LabelInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    color = serializers.CharField(max_length=20, required=False, help_text=f"One of {', '.join(Label.Color.values)}")


class QuickReplyOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    shortcut = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    updated_at = serializers.DateTimeField()


class QuickReplyInput(serializers.Serializer):
    shortcut = serializers.CharField(max_length=200, allow_blank=True)
    title = serializers.CharField(max_length=200, allow_blank=True)
    body = serializers.CharField(max_length=10_000, allow_blank=True)


class AvailabilityInput(serializers.Serializer):
    available = serializers.BooleanField()


class AgentOutput(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.SerializerMethodField()
    available = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        return person_name(user)

    def get_available(self, user: Any) -> bool:
        return user.pk not in self.context.get("away", set())
