from services.review.appeals import models as _appeals  # noqa: F401
from services.review.base import SCHEMA, ReviewBase
from services.review.cases import models as _cases  # noqa: F401  (registers tables)
from services.review.catalogue import models as _catalogue  # noqa: F401
from services.review.charges import models as _charges  # noqa: F401
from services.review.institutional_findings import models as _institutional  # noqa: F401
from services.review.meetings import models as _meetings  # noqa: F401
from services.review.permissions import models as _permissions  # noqa: F401
from services.review.roster import models as _roster  # noqa: F401
from services.review.units import models as _units  # noqa: F401
from shared.migrations import run_migrations

run_migrations(schema=SCHEMA, target_metadata=ReviewBase.metadata)
