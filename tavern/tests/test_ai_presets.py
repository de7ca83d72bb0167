"""SillyTavern presets into GenerationParams (values copied from the presets SillyTavern ships)."""

import pytest

from tavern.ai.chat import ChatConnectionConfig, GenerationParams, chat_request_arguments
from tavern.ai.presets import PresetError, generation_params_from_sillytavern

# presets/openai/Default.json (the sampling keys, with some of what is ignored)
OPENAI_DEFAULT = {
    "chat_completion_source": "openai",
    "openai_model": "gpt-4-turbo",
    "temperature": 1,
    "frequency_penalty": 0,
    "presence_penalty": 0,
    "top_p": 1,
    "top_k": 0,
    "top_a": 0,
    "min_p": 0,
    "repetition_penalty": 1,
    "openai_max_context": 4095,
    "openai_max_tokens": 300,
    "stream_openai": True,
    "prompts": [{"name": "Main Prompt", "identifier": "main", "content": "Write {{char}}'s next reply."}],
    "seed": -1,
    "n": 1,
}
# presets/textgen/Default.json
TEXTGEN_DEFAULT = {
    "temp": 0.7,
    "temperature_last": True,
    "top_p": 0.5,
    "top_k": 40,
    "top_a": 0,
    "tfs": 1,
    "typical_p": 1,
    "min_p": 0,
    "rep_pen": 1.2,
    "rep_pen_range": 0,
    "freq_pen": 0,
    "presence_pen": 0,
    "dry_sequence_breakers": '["\\n", ":", "\\"", "*"]',
    "mirostat_mode": 0,
    "sampler_order": [6, 0, 1, 3, 4, 2, 5],
}
# presets/textgen/Universal-Light.json
TEXTGEN_UNIVERSAL_LIGHT = {
    "temp": 1.25,
    "temperature_last": False,
    "top_p": 1,
    "top_k": 0,
    "min_p": 0.1,
    "rep_pen": 1,
    "freq_pen": 0,
    "presence_pen": 0,
}


def test_openai_default_preset():
    assert generation_params_from_sillytavern(OPENAI_DEFAULT) == GenerationParams(
        temperature=1.0, top_p=1.0, frequency_penalty=0.0, presence_penalty=0.0, max_tokens=300
    )


def test_textgen_default_preset():
    assert generation_params_from_sillytavern(TEXTGEN_DEFAULT) == GenerationParams(
        temperature=0.7,
        top_p=0.5,
        top_k=40,
        frequency_penalty=0.0,
        presence_penalty=0.0,
        repetition_penalty=1.2,
    )


def test_textgen_universal_light_preset():
    assert generation_params_from_sillytavern(TEXTGEN_UNIVERSAL_LIGHT) == GenerationParams(
        temperature=1.25, top_p=1.0, min_p=0.1, frequency_penalty=0.0, presence_penalty=0.0
    )


def test_imported_samplers_reach_the_request_body():
    params = generation_params_from_sillytavern(TEXTGEN_DEFAULT | {"genamt": 250})
    config = ChatConnectionConfig(label="KoboldCpp", base_url="http://127.0.0.1:5001/v1", model="koboldcpp")

    arguments = chat_request_arguments(config, [{"role": "user", "content": "Hi"}], params)

    assert arguments["max_tokens"] == 250
    assert arguments["extra_body"] == {"top_k": 40, "repetition_penalty": 1.2}


def test_a_set_seed_is_kept():
    assert generation_params_from_sillytavern({"seed": 1234}).seed == 1234


def test_chat_completion_spelling_wins_over_textgen():
    assert generation_params_from_sillytavern({"temperature": 0.9, "temp": 0.3}).temperature == 0.9


def test_unknown_keys_are_ignored():
    assert (
        generation_params_from_sillytavern({"mirostat_tau": 5, "some_future_key": {"x": 1}})
        == GenerationParams()
    )


def test_stopping_strings_as_json_text_and_list_are_merged_without_repeats():
    params = generation_params_from_sillytavern(
        {"stopping_strings": ["\n{{user}}:", "###"], "custom_stopping_strings": '["###", "\\n*{{user}}"]'}
    )

    assert params.stop == ("\n{{user}}:", "###", "\n*{{user}}")


def test_empty_stopping_strings_mean_none():
    assert (
        generation_params_from_sillytavern({"custom_stopping_strings": "", "stopping_strings": []}).stop
        is None
    )


@pytest.mark.parametrize(
    ("preset", "key"),
    [
        ({"temp": "hot"}, "temp"),
        ({"temperature": True}, "temperature"),
        ({"top_k": 40.5}, "top_k"),
        ({"openai_max_tokens": "300"}, "openai_max_tokens"),
        ({"genamt": 0}, "genamt"),
        ({"top_p": 1.5}, "top_p"),
        ({"rep_pen": -1}, "rep_pen"),
        ({"custom_stopping_strings": "not json"}, "custom_stopping_strings"),
        ({"custom_stopping_strings": '{"a": 1}'}, "custom_stopping_strings"),
        ({"stopping_strings": ["ok", 1]}, "stopping_strings"),
    ],
    ids=[
        "text-for-number",
        "bool-for-number",
        "fraction-for-integer",
        "text-for-integer",
        "zero-reply-length",
        "top-p-above-one",
        "negative-penalty",
        "stop-not-json",
        "stop-json-not-a-list",
        "stop-list-with-a-number",
    ],
)
def test_wrong_values_name_the_key(preset, key):
    with pytest.raises(PresetError) as error:
        generation_params_from_sillytavern(preset)

    assert error.value.key == key
    assert str(error.value).startswith(f"'{key}' must be")


def test_a_preset_that_is_not_an_object_is_refused():
    with pytest.raises(PresetError) as error:
        generation_params_from_sillytavern(["temp", 1])  # type: ignore[arg-type]

    assert error.value.key == "preset"
