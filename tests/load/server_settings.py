"""Settings of the servers the load tests start: the production settings, with static
files collected into a temporary folder (``LOAD_STATIC_ROOT``) instead of the checkout's
``staticfiles/``. Production's manifest storage needs a collected manifest to draw any page.
"""

import os

from consult.settings import *  # noqa: F403

STATIC_ROOT = os.environ["LOAD_STATIC_ROOT"]
