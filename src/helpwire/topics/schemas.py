"""Request and response bodies of the topics API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from helpwire.types import Int32


class SubtopicIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    names: dict[str, str]
    position: Int32 | None = None


class TopicCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    names: dict[str, str] = Field(description='Names by language; "en" is required.')
    position: Int32 = 0
    subtopics: list[SubtopicIn] = []


class TopicUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    names: dict[str, str] | None = None
    position: Int32 | None = None
    is_active: bool | None = None
    subtopics: list[SubtopicIn] | None = Field(
        default=None, description="The full list; subtopics left out are deactivated."
    )


class SubtopicOut(BaseModel):
    key: str
    names: dict[str, str]
    position: int
    is_active: bool


class TopicOut(BaseModel):
    key: str
    names: dict[str, str]
    position: int
    is_active: bool
    subtopics: list[SubtopicOut]
