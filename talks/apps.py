from django.apps import AppConfig


class TalksConfig(AppConfig):
    name = "talks"
    verbose_name = "Talks"

    def ready(self):
        from simple_history.signals import post_create_historical_record

        from talks.changes import record_public_change

        post_create_historical_record.connect(record_public_change, dispatch_uid="parley_public_change")

        from talks import tallies

        tallies.connect()
