"""Imported by multiprocessing's fork server when it starts (``set_forkserver_preload``): the fork
server then dies with the process that started it, as the workers it forks do. Importing this
module anywhere else would tie that process to its parent: only the fork server imports it."""

import os

from flowschema.executor.lifeline import die_with, identity

die_with(identity(os.getppid()))
