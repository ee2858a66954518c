"""What the assigned member sends and reads about the protected-disclosure screen."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Reasons = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class ScreenAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: bool
    note: Note = Field(description="Why: what in the report or evidence supports the answer")


class ScreenCreate(BaseModel):
    """The member's answer to each question, with a note, and the outcome."""

    model_config = ConfigDict(extra="forbid")

    whistleblowing: ScreenAnswer = Field(description="Is it whistleblowing on wrongdoing?")
    public_interest: ScreenAnswer = Field(description="Was it said in the public interest?")
    private_capacity: ScreenAnswer = Field(description="Was it said in a private capacity?")
    already_public: ScreenAnswer = Field(description="Is it about information already public?")
    outcome: Literal["proceed", "dismiss", "confidential_channel"] = Field(
        description="proceed: the charge may go forward (a notice may be served); dismiss: the "
        "case ends with the reasons; confidential_channel: off the normal track, for the chair"
    )
    reasons: Reasons | None = Field(
        default=None, description="Required to dismiss or to route to a confidential channel"
    )


class ScreenRead(BaseModel):
    whistleblowing: ScreenAnswer
    public_interest: ScreenAnswer
    private_capacity: ScreenAnswer
    already_public: ScreenAnswer
    outcome: str
    reasons: str | None
    screened_by: uuid.UUID
    screened_at: datetime


ConfidentialOutcomeValue = Literal["referred", "returned", "dismissed"]
Authority = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Rescreen(BaseModel):
    """The chair's fresh answer to each question of the screen, with a note: what returning a
    case to the normal track rests on."""

    model_config = ConfigDict(extra="forbid")

    whistleblowing: ScreenAnswer
    public_interest: ScreenAnswer
    private_capacity: ScreenAnswer
    already_public: ScreenAnswer


class ConfidentialOutcomeCreate(BaseModel):
    """How the chair closes the confidential channel on a case: `referred` to the competent
    protected-disclosure authority (`authority` and its `reference`), `returned` to the normal
    track after re-screening (`rescreen`), or `dismissed`; `reasons` always."""

    model_config = ConfigDict(extra="forbid")

    outcome: ConfidentialOutcomeValue
    reasons: Reasons
    authority: Authority | None = Field(
        default=None, description="referred only: the competent protected-disclosure authority"
    )
    reference: Reference | None = Field(
        default=None, description="referred only: the authority's (or the referral's) reference"
    )
    rescreen: Rescreen | None = Field(
        default=None, description="returned only: the chair's answers to the screen's questions"
    )


class ConfidentialOutcomeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    outcome: ConfidentialOutcomeValue
    authority: str | None
    reference: str | None
    reasons: str
    rescreen: Rescreen | None
    decided_by: uuid.UUID
    decided_at: datetime
