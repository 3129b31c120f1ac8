"""Scheduler config for `manage.py rqcron aerostic.cron`: registers aerostic.periodic.PERIODIC_JOBS."""

from django.utils.module_loading import import_string
from rq import cron

from aerostic.periodic import PERIODIC_JOBS

for job in PERIODIC_JOBS:
    cron.register(import_string(job.func), job.queue, cron=job.cron, name=job.func)
