"""Production refuses the development pseudonym key where it is used (intake, review), and
services that never pseudonymise (registry, migrations) start without it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.intake.settings import IntakeSettings
from services.registry.settings import RegistrySettings
from services.review.settings import ReviewSettings
from shared.settings import ServiceSettings

PRODUCTION = {"CONDUCT_ENVIRONMENT": "production"}


@pytest.mark.parametrize("settings_class", [IntakeSettings, ReviewSettings])
def test_intake_and_review_refuse_the_development_key_in_production(
    settings_class: type[ServiceSettings],
) -> None:
    with pytest.raises(ValidationError, match="PSEUDONYM_KEY"):
        settings_class.model_validate(PRODUCTION)
    settings_class.model_validate({**PRODUCTION, "PSEUDONYM_KEY": "a real secret"})


@pytest.mark.parametrize("settings_class", [RegistrySettings, ServiceSettings])
def test_services_that_never_pseudonymise_start_without_it(
    settings_class: type[ServiceSettings],
) -> None:
    assert settings_class.model_validate(PRODUCTION).environment == "production"


def test_a_database_url_that_is_not_postgresql_is_refused() -> None:
    settings = ServiceSettings.model_validate({"DATABASE_URL": "mysql://x@y/z"})
    with pytest.raises(ValueError, match="postgresql"):
        _ = settings.async_database_url
