"""The top layer: home page, navigation, dashboards and the housekeeping schedule, assembled from what each
app contributes through its AppConfig. Nothing below imports it."""
