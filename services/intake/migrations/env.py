from services.intake.base import SCHEMA, IntakeBase
from services.intake.catalogue import models as _catalogue  # noqa: F401  (registers tables)
from services.intake.clients import models as _clients  # noqa: F401
from services.intake.idempotency import models as _idempotency  # noqa: F401
from services.intake.permissions import models as _permissions  # noqa: F401
from services.intake.reports import models as _reports  # noqa: F401
from services.intake.violator_lists import models as _violator_lists  # noqa: F401
from services.intake.webhooks import models as _webhooks  # noqa: F401
from shared.migrations import run_migrations

run_migrations(schema=SCHEMA, target_metadata=IntakeBase.metadata)
