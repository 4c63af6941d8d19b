"""rag.validate.clean_question."""
import pytest

from casedata import has_chinese
from rag.errors import InputError, RagError
from rag.validate import clean_question


@pytest.mark.parametrize("question", ["", "   ", "\n\t \u3000", None, "\u200b\u200b"])
def test_empty_or_blank_question(question):
    with pytest.raises(InputError) as info:
        clean_question(question)
    assert "空" in str(info.value) and has_chinese(str(info.value))


def test_too_long_question():
    with pytest.raises(InputError) as info:
        clean_question("信" * 10_000)
    assert "10000" in str(info.value) and "2000" in str(info.value)
    assert clean_question("信" * 2000) == "信" * 2000
    with pytest.raises(InputError):
        clean_question("信" * 11, max_chars=10)


def test_normalises_and_strips():
    assert clean_question("  哪些地方用信托制物业？ \n") == "哪些地方用信托制物业?"  # NFKC: full-width ？ → ?
    assert clean_question("ＡＢＣ１２３") == "ABC123"
    assert clean_question("信托\x00制\x07物业") == "信托制物业"


def test_input_error_is_a_rag_error_with_its_exit_code():
    assert issubclass(InputError, RagError) and InputError.exit_code == 2
