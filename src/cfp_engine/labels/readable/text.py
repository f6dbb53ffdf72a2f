"""The words of the readable label and report, in English and Japanese.

One table (:data:`STRINGS`, key -> (English, Japanese)) so both languages stay in step;
:mod:`cfp_engine.labels.readable.render` looks strings up with :func:`text`.
"""

from __future__ import annotations

LANGUAGES = ("en", "ja")

# One table of strings: key -> (English, Japanese).
STRINGS: dict[str, tuple[str, str]] = {
    "title": ("Carbon footprint of product (CFP)", "カーボンフットプリント（CFP）"),
    "label": ("Label", "表示"),
    "product": ("Product", "製品"),
    "variant": ("Variant", "バリエーション"),
    "company": ("Company", "事業者"),
    "cfp": ("Carbon footprint", "カーボンフットプリント"),
    "declared_unit": ("Declared unit", "宣言単位"),
    "stages": ("Life-cycle stages covered", "算定範囲（ライフサイクルステージ）"),
    "not_covered": (" (not included, no inputs: {})", "（{}は投入なしのため対象外）"),
    "colon": (": ", "："),
    "period": ("Reference period", "算定対象期間"),
    "validity": ("Valid until", "有効期限"),
    "report_at": ("Calculation report", "CFP算定報告書"),
    "report_none": (
        "no published location given; see the calculation report summary below",
        "公開先の記載なし（下記の算定報告の要約を参照）",
    ),
    "rounding_note": (
        "Values: 3 significant digits, rounded half up. GWP100, IPCC {ar}.",
        "数値は有効数字3桁（四捨五入）。GWP100（IPCC {ar}）。",
    ),
    "report": ("Calculation report (ISO 14067, clause 7)", "算定報告（ISO 14067 第7章）"),
    "engine_text": (
        "",
        "※ 算定エンジンが生成した説明文・出典名は英語原文のまま記載しています。",
    ),
    "s_unit": ("Declared unit and mass", "宣言単位と質量"),
    "mass": ("Mass per declared unit", "宣言単位あたりの質量"),
    "mass_source": ("Source of the mass", "質量の根拠"),
    "s_boundary": ("System boundary", "システム境界"),
    "geography": ("Geography", "対象地域"),
    "boundary": ("Processes included", "対象プロセス"),
    "s_stages": ("Results by life-cycle stage", "ライフサイクルステージ別の結果"),
    "stage": ("Stage", "ステージ"),
    "value": ("Value", "値"),
    "share": ("Share of total", "割合"),
    "total": ("Total", "合計"),
    "excluded": ("not included", "対象外"),
    "share_note": (
        "Shares from the unrounded values; rounded shares need not add up to 100 %.",
        "割合は丸める前の値から計算（丸めた割合の和は100 %にならないことがあります）。",
    ),
    "chart_title": ("Emissions by life-cycle stage", "ライフサイクルステージ別の排出量"),
    "chart_heading": ("{title} ({unit})", "{title}（{unit}）"),
    "chart_desc": (
        "Bar chart, value axis from zero, in {unit}: {items}.",
        "{unit}単位の棒グラフ（値の軸は0から）：{items}。",
    ),
    "s_figures": ("Figures reported separately", "個別に報告する値"),
    "fossilGhgEmissions": ("Fossil GHG emissions", "化石由来のGHG排出"),
    "biogenicNonCO2Emissions": ("Biogenic non-CO2 emissions", "生物起源のCO2以外のGHG排出"),
    "biogenicCO2Uptake": ("Biogenic CO2 uptake", "生物起源CO2の吸収"),
    "landUseChangeGhgEmissions": ("Land-use change emissions", "土地利用変化による排出"),
    "aircraftGhgEmissions": ("Aircraft transport emissions", "航空輸送による排出"),
    "packagingGhgEmissions": ("Packaging emissions", "包装による排出"),
    "outboundLogisticsGhgEmissions": ("Outbound logistics emissions", "出荷物流による排出"),
    "fossilCarbonContent": ("Fossil carbon content", "化石由来の炭素含有量"),
    "biogenicCarbonContent": ("Biogenic carbon content", "生物起源の炭素含有量"),
    "packaging_none": (" (no packaging component in the spec)", "（仕様に包装部品なし）"),
    "carbon_note": ("Carbon contents", "炭素含有量の根拠"),
    "s_data": ("Data sources and data quality", "データの出典と品質"),
    "sources": ("Secondary data (emission factors)", "二次データ（排出原単位）の出典"),
    "primary_share": ("Primary data share", "一次データの割合"),
    "coverage": ("DQR coverage", "データ品質評価の対象割合"),
    "technologicalDQR": ("Technological DQR", "技術的代表性 DQR"),
    "temporalDQR": ("Temporal DQR", "時間的代表性 DQR"),
    "geographicalDQR": ("Geographical DQR", "地理的代表性 DQR"),
    "completenessDQR": ("Completeness DQR", "完全性 DQR"),
    "reliabilityDQR": ("Reliability DQR", "信頼性 DQR"),
    "dqr_note": (
        "DQR: the datasets' pedigree scores weighted by emissions (inputs of 5 % or more), "
        "1 best to 5 worst (the PACT v3 and Catena-X scale; PACT v2 labels state them 1-3).",
        "DQR：排出量で重み付けしたデータセットのペディグリー評点（排出量5 %以上の入力）、"
        "1（最良）〜5（最低）（PACT v3・Catena-Xの尺度。PACT v2では1〜3で記載）。",
    ),
    "dqr_none_label": ("Data quality rating (DQR)", "データ品質評価（DQR）"),
    "dqr_none": (
        "not rated: no input of 5 % or more of the emissions has pedigree scores",
        "評価なし：排出量の5 %以上を占める入力にペディグリー評点がない",
    ),
    "s_allocation": ("Allocation", "配分"),
    "approach": ("End-of-life allocation", "リサイクル・廃棄段階の配分方法"),
    "allocation": ("Allocation rules", "配分の規則"),
    "s_method": ("Method and GWP", "算定方法と地球温暖化係数"),
    "method": ("Impact method", "影響評価手法"),
    "ipcc": ("IPCC assessment report", "IPCC評価報告書"),
    "gwp": ("GWP source", "GWPの出典"),
    "standards": ("Standards", "準拠規格"),
    "rules": ("Product rules (PCR)", "製品別算定ルール（PCR）"),
    "none": ("none", "なし"),
    "not_given": ("not given", "記載なし"),
    "s_exclusions": ("Exclusions (cut-off)", "除外（カットオフ）"),
    "exempted": ("Exempted emissions", "除外した排出量"),
    "s_uncertainty": ("Uncertainty", "不確実性"),
    "assessment": ("Assessment", "評価"),
    "description": ("Description", "説明"),
    "s_recycled": ("Recycled content and reduction", "再生材含有率と削減効果"),
    "recycled": ("Recycled content (by mass)", "再生材含有率（質量）"),
    "virgin": ("Footprint with all-virgin material", "全量バージン材の場合のCFP"),
    "reduction": ("Reduction vs all-virgin material", "バージン材比の削減率"),
    "s_integrity": ("Identification and integrity", "識別情報と完全性"),
    "id": ("Label id and version", "ラベルIDと版"),
    "created": ("Created", "作成日時"),
    "ids": ("Company / product ids", "事業者ID／製品ID"),
    "rounding": ("Display rounding", "表示の丸め"),
    "spec_sha256": ("Spec SHA-256", "仕様ファイル SHA-256"),
    "data_sha256": ("Data SHA-256", "データ SHA-256"),
    "engine_sha256": ("Engine SHA-256", "エンジン SHA-256"),
    "figures_sha256": ("Figures SHA-256", "数値 SHA-256"),
    "canonical_json": ("Canonical JSON", "正規化JSON"),
    "raw_materials": ("Raw material acquisition", "原材料調達"),
    "production": ("Production", "生産"),
    "distribution": ("Distribution", "流通・販売"),
    "use": ("Use", "使用・維持管理"),
    "end_of_life": ("End of life", "廃棄・リサイクル"),
    "cut-off": ("cut-off", "カットオフ法"),
    "avoided-burden": ("avoided burden", "回避負荷法"),
    "cff": ("Circular Footprint Formula (PEF)", "サーキュラー・フットプリント式（PEF CFF）"),
    "sep": (", ", "、"),
}
JA_UNITS = {
    "piece": "個",
    "kilogram": "kg",
    "liter": "L",
    "kilowatt hour": "kWh",
    "square meter": "m²",
    "ton kilometer": "トンキロ",
}


def text(key: str, lang: str) -> str:
    """The string ``key`` of :data:`STRINGS` in ``lang`` ("en" or "ja")."""
    return STRINGS[key][LANGUAGES.index(lang)]
