from summarizer.text import light_stem, normalize, split_paragraphs, split_sentences, tokens


def test_normalize_unifies_spelling_variants():
    assert normalize("أحمد") == normalize("احمد") == normalize("إحمد") == normalize("آحمد")
    assert normalize("مدرسة") == normalize("مدرسه")
    assert normalize("مستشفى") == normalize("مستشفي")
    assert normalize("جدًا") == normalize("جدا")  # tanween
    assert normalize("العـــربية") == normalize("العربية")  # tatweel
    assert normalize("مُحَمَّد") == "محمد"  # diacritics
    assert normalize("٢٠١٨") == "2018"


def test_tokens_keep_arabic_letters_and_digits():
    assert tokens("قال الرئيس، في 2018: «نعم»!") == ["قال", "الرييس", "في", "2018", "نعم"]


def test_split_on_arabic_and_latin_terminators_not_on_arabic_comma():
    text = "وصل الوزير إلى القاهرة، ثم غادر. هل يعود غدا؟ نعم! وأضاف؛ أن الزيارة مهمة"
    assert split_sentences(text) == ["وصل الوزير إلى القاهرة، ثم غادر.", "هل يعود غدا؟", "نعم!", "وأضاف؛",
                                     "أن الزيارة مهمة"]


def test_split_keeps_decimals_and_abbreviations():
    text = "ارتفع المؤشر 3.5 بالمئة. وقال د. أحمد إن النمو بلغ 2.75 في المئة في U.S. market."
    assert split_sentences(text) == ["ارتفع المؤشر 3.5 بالمئة.", "وقال د. أحمد إن النمو بلغ 2.75 في المئة في U.S. market."]


def test_split_on_line_breaks_and_double_dot_pause():
    assert split_sentences("السطر الأول\nالسطر الثاني") == ["السطر الأول", "السطر الثاني"]
    assert split_sentences('صورة "الهيكل المزعوم".. وغضب فلسطيني') == ['صورة "الهيكل المزعوم".. وغضب فلسطيني']


def test_split_keeps_closing_quote_with_sentence():
    assert split_sentences('قال "انتهى الأمر." ثم غادر.') == ['قال "انتهى الأمر."', "ثم غادر."]


def test_paragraphs_and_stems():
    assert split_paragraphs("  فقرة   أولى \n\n\nفقرة ثانية  ") == ["فقرة أولى", "فقرة ثانية"]
    assert light_stem("والمدارس") == "مدارس"
    assert light_stem("المعلمون") == "معلم"
