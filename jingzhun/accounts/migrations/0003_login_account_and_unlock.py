import unicodedata

from django.db import migrations, models


def _account_key(raw):
    # usernames.account_key as of this migration (a migration keeps its own copy).
    return unicodedata.normalize("NFKC", (raw or "").strip()).strip().casefold()[:150]


def fill_accounts(apps, schema_editor):
    LoginAttempt = apps.get_model("accounts", "LoginAttempt")
    batch = []
    for attempt in LoginAttempt.objects.only("pk", "username").iterator(chunk_size=2000):
        attempt.account = _account_key(attempt.username)
        batch.append(attempt)
        if len(batch) >= 2000:
            LoginAttempt.objects.bulk_update(batch, ["account"])
            batch = []
    LoginAttempt.objects.bulk_update(batch, ["account"])


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_scoped_managers'),
    ]

    operations = [
        migrations.AddField(
            model_name='loginattempt',
            name='account',
            field=models.CharField(default='', editable=False, max_length=150, verbose_name='账号'),
            preserve_default=False,
        ),
        migrations.RunPython(fill_accounts, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='loginattempt',
            name='username',
            field=models.CharField(help_text='登录时输入的原样', max_length=150, verbose_name='用户名'),
        ),
        migrations.RemoveIndex(
            model_name='loginattempt',
            name='login_user_time',
        ),
        migrations.AddIndex(
            model_name='loginattempt',
            index=models.Index(fields=['account', 'timestamp'], name='login_account_time'),
        ),
        migrations.AddIndex(
            model_name='loginattempt',
            index=models.Index(fields=['account', 'remote_addr', 'timestamp'], name='login_account_addr_time'),
        ),
        migrations.AddField(
            model_name='user',
            name='login_unlocked_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='解除登录锁定'),
        ),
    ]
