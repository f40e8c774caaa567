"""The registry's URLs, split by area so each module stays small."""

from jingzhun.registry import urls_documents, urls_households, urls_quality

app_name = "registry"
urlpatterns = urls_households.urlpatterns + urls_documents.urlpatterns + urls_quality.urlpatterns
