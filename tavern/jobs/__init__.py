"""Background jobs for long work: a job row per piece of work (tavern.models.BackgroundJob),
kinds registered by the apps that own the work (registry), one Celery task that runs any
kind exactly once (runner, tavern.tasks.job_run), live progress (progress), and the
owner-only reads the job API and page use (selectors)."""
