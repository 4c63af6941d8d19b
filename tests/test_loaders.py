"""rag.loaders: encodings, broken and unsupported files, Word / HTML / PDF conversion, size limit."""
import hashlib
import random

import pytest

from casedata import DOC_LAIYANG, case_file, has_chinese
from rag import loaders
from rag.errors import InputError
from rag.loaders import decode, html_text, load

TEXT = DOC_LAIYANG + "\n居民说：“有事找网格员，问题当天就能办。”——这是真实的心声……\n"


def expect_input_error(path) -> str:
    with pytest.raises(InputError) as info:
        load(path)
    message = str(info.value)
    assert has_chinese(message), message
    return message


# --- encodings -------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding, data", [
    ("utf-8", TEXT.encode("utf-8")),
    ("utf-8-bom", b"\xef\xbb\xbf" + TEXT.encode("utf-8")),
    ("gbk", TEXT.encode("gbk")),
    ("gb18030", TEXT.encode("gb18030")),
])
def test_encodings_decode_to_the_same_text(tmp_path, encoding, data):
    path = tmp_path / f"{encoding}.txt"
    path.write_bytes(data)
    loaded = load(path)
    assert loaded.text == TEXT
    assert loaded.encoding == ("gb18030" if encoding.startswith("gb") else "utf-8")
    assert loaded.content_hash == hashlib.sha256(data).hexdigest()


def test_whole_corpus_file_in_gbk_and_gb18030(tmp_path):
    text = case_file("000").read_text(encoding="utf-8")
    for encoding in ("gbk", "gb18030"):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes(text.encode(encoding))
        assert load(path).text == text


def test_crlf_and_cr_line_ends_become_lf(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode("utf-8"))
    assert load(path).text == TEXT
    path.write_bytes(TEXT.replace("\n", "\r").encode("gbk"))
    assert load(path).text == TEXT


def test_short_gbk_title_with_chinese_quotes(tmp_path):
    text = "“三所联动” 筑牢平安防线\n"
    path = tmp_path / "title.txt"
    path.write_bytes(text.encode("gbk"))
    loaded = load(path)
    assert loaded.text == text


# --- unreadable input ------------------------------------------------------------------------
def test_empty_and_blank_files(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    assert "空" in expect_input_error(tmp_path / "empty.txt")
    (tmp_path / "blank.md").write_bytes(b"  \n\t\r\n ")
    assert "空" in expect_input_error(tmp_path / "blank.md")
    (tmp_path / "bom_only.txt").write_bytes(b"\xef\xbb\xbf")
    expect_input_error(tmp_path / "bom_only.txt")


def test_binary_file_with_nul_bytes(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert "二进制" in expect_input_error(path)


@pytest.mark.parametrize("seed, size", [(0, 64), (1, 500), (2, 5000), (3, 20000)])
def test_random_bytes(tmp_path, seed, size):
    rng = random.Random(seed)
    path = tmp_path / "noise.txt"
    path.write_bytes(rng.randbytes(size))
    expect_input_error(path)
    # and without a single NUL byte, so the binary check cannot be what catches it
    path.write_bytes(bytes(rng.randrange(1, 256) for _ in range(size)))
    expect_input_error(path)


def test_unsupported_extension(tmp_path):
    path = tmp_path / "sheet.xlsx"
    path.write_text(TEXT, encoding="utf-8")
    message = expect_input_error(path)
    assert "不支持" in message and ".xlsx" in message
    no_suffix = tmp_path / "README"
    no_suffix.write_text(TEXT, encoding="utf-8")
    assert "无扩展名" in expect_input_error(no_suffix)


def test_missing_file_and_directory(tmp_path):
    assert "找不到" in expect_input_error(tmp_path / "nope.txt")
    assert "找不到" in expect_input_error(tmp_path)


def test_corrupt_docx(tmp_path):
    path = tmp_path / "report.docx"
    path.write_bytes(random.Random(7).randbytes(3000))
    assert "损坏" in expect_input_error(path)
    # a valid zip that is not a Word document
    import zipfile

    with zipfile.ZipFile(tmp_path / "zip.docx", "w") as z:
        z.writestr("hello.txt", "不是 Word 文件")
    assert "损坏" in expect_input_error(tmp_path / "zip.docx")


@pytest.mark.parametrize("data", [
    b"%PDF-1.4\n" + random.Random(8).randbytes(2000),
    b"%PDF-1.7\n%%EOF\n",
    random.Random(9).randbytes(2000),
])
def test_corrupt_pdf(tmp_path, data):
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    expect_input_error(path)


def test_over_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_text(TEXT, encoding="utf-8")
    monkeypatch.setattr(loaders, "MAX_BYTES", 64)
    assert "过大" in expect_input_error(path)
    monkeypatch.setattr(loaders, "MAX_BYTES", len(path.read_bytes()))
    assert load(path).text == TEXT  # exactly at the limit is allowed


# --- other formats ---------------------------------------------------------------------------
def test_real_docx_headings_become_markdown(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("山东省莱阳市：实施信托制物业", level=1)
    document.add_paragraph("山东省烟台市莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。")
    document.add_paragraph("")  # empty paragraphs are dropped
    document.add_heading("从条块分割到握指成拳", level=2)
    document.add_paragraph("莱阳市还建立了红色物业联盟。")
    path = tmp_path / "case.docx"
    document.save(path)
    loaded = load(path)
    assert loaded.encoding == "docx"
    assert loaded.text == (
        "# 山东省莱阳市：实施信托制物业\n\n"
        "山东省烟台市莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。\n\n"
        "## 从条块分割到握指成拳\n\n"
        "莱阳市还建立了红色物业联盟。"
    )
    assert loaded.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_docx_title_style_is_a_title(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("岑溪市：一核五治", level=0)  # the "Title" style
    document.add_paragraph("岑溪市中心城区常住人口五年间由12.02万人增加到20.56万人。")
    document.save(tmp_path / "t.docx")
    assert load(tmp_path / "t.docx").text.splitlines()[0] == "# 岑溪市：一核五治"


def test_html_titles_paragraphs_and_noise(tmp_path):
    markup = (
        "<html><head><title>网页标题</title><style>p {color: red}</style></head><body>"
        "<nav>首页 | 新闻</nav><header>页眉</header>"
        "<h1>广东省罗定市：邻里议事</h1>"
        "<p>广东省云浮市罗定市建立邻里议事会，\n  已协商解决“微小事”1.2万余件。</p>"
        "<h3>小标题</h3><ul><li>人文型</li><li>康养型</li></ul>"
        "<script>var x = '脚本';</script><footer>版权所有</footer></body></html>"
    )
    path = tmp_path / "page.html"
    path.write_text(markup, encoding="utf-8")
    text = load(path).text
    assert text == (
        "# 广东省罗定市：邻里议事\n\n"
        "广东省云浮市罗定市建立邻里议事会， 已协商解决“微小事”1.2万余件。\n\n"
        "## 小标题\n\n人文型\n\n康养型"
    )
    for noise in ("脚本", "首页", "版权", "页眉", "color"):
        assert noise not in text


def test_html_in_gbk_and_htm_suffix(tmp_path):
    path = tmp_path / "page.htm"
    path.write_bytes("<h1>莱阳市：信托制物业</h1><p>物业费收缴率提升至93%。</p>".encode("gbk"))
    assert load(path).text == "# 莱阳市：信托制物业\n\n物业费收缴率提升至93%。"


def test_html_without_block_tags_falls_back_to_text_lines():
    assert html_text("<div>第一行</div><div>第二行</div>") == "第一行\n\n第二行"


def test_html_with_no_text_is_an_input_error(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<html><body><script>x=1</script></body></html>", encoding="utf-8")
    assert "没有可读的文字" in expect_input_error(path)


def test_real_pdf_text(tmp_path):
    """A minimal but valid PDF (ASCII text: pypdf needs CID fonts for Chinese)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 12 Tf 20 100 Td (Trust property management) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(stream)
    path = tmp_path / "doc.pdf"
    with open(path, "wb") as f:
        writer.write(f)
    loaded = load(path)
    assert loaded.encoding == "pdf"
    assert "Trust property management" in loaded.text


def test_decode_rejects_nul_but_not_utf16_with_bom():
    with pytest.raises(InputError):
        decode(b"abc\x00def", "x.txt")
    text, _ = decode("莱阳市推行信托制物业服务模式。".encode("utf-16"))
    assert text.lstrip("\ufeff") == "莱阳市推行信托制物业服务模式。"
