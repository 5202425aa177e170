import os

from hypothesis import HealthCheck, settings

# "ci" keeps the whole suite within a few minutes on 2 cores; "thorough" for a deeper local run:
#   HYPOTHESIS_PROFILE=thorough make test
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
