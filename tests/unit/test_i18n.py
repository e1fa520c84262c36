"""Every text exists in English and Simplified Chinese, with the same placeholders."""

from __future__ import annotations

from core.i18n import LANGUAGES, language_from_telegram, load_catalogs, placeholders
from handlers.commands import COMMANDS


def test_every_message_exists_in_both_languages() -> None:
    catalogs = load_catalogs()
    en, zh = catalogs.keys("en"), catalogs.keys("zh")
    assert en - zh == set(), f"missing in Chinese: {sorted(en - zh)}"
    assert zh - en == set(), f"missing in English: {sorted(zh - en)}"
    for key in en:
        for lang in LANGUAGES:
            assert catalogs.texts[lang][key].strip(), f"{key} is empty in {lang}"


def test_placeholders_match_between_languages() -> None:
    catalogs = load_catalogs()
    for key in catalogs.keys("en"):
        en = placeholders(catalogs.texts["en"][key])
        zh = placeholders(catalogs.texts["zh"][key])
        assert en == zh, f"{key}: en {en} vs zh {zh}"


def test_every_command_is_described() -> None:
    import bot.app  # noqa: F401  (registers every area's commands)

    catalogs = load_catalogs()
    for command in COMMANDS.values():
        assert catalogs.has(command.description_key), command.name


def test_telegram_language_codes() -> None:
    assert language_from_telegram("zh-hans", fallback="en") == "zh"
    assert language_from_telegram("zh-CN", fallback="en") == "zh"
    assert language_from_telegram("en-US", fallback="zh") == "en"
    assert language_from_telegram("de", fallback="zh") == "zh"
    assert language_from_telegram(None, fallback="en") == "en"
    assert language_from_telegram(None, fallback="zh") == "zh"


def test_one_default_language_the_configured_one() -> None:
    """People who chose no language are answered in ``[defaults] language`` (or a team's);
    rows written without a language get the same; the fallback catalogue is not a default."""
    from core.settings import DEFAULT_LANGUAGE, Settings
    from models.user import User

    built_in = Settings.model_validate({})
    assert built_in.language_default() == DEFAULT_LANGUAGE == "zh"
    configured = Settings.model_validate({"defaults": {"language": "en"}})
    assert configured.language_default() == "en"
    assert User.model_fields["language"].default == DEFAULT_LANGUAGE
    catalogs = load_catalogs()
    assert catalogs.t("zh", "forms.cancel") != catalogs.t("en", "forms.cancel")
