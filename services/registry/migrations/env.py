from services.registry.base import SCHEMA, RegistryBase
from services.registry.catalogue import models as _catalogue  # noqa: F401  (registers tables)
from services.registry.checkpoints import models as _checkpoints  # noqa: F401
from services.registry.employees import models as _employees  # noqa: F401
from services.registry.ledger import models as _ledger  # noqa: F401
from services.registry.readers import models as _readers  # noqa: F401
from shared.migrations import run_migrations

run_migrations(schema=SCHEMA, target_metadata=RegistryBase.metadata)
