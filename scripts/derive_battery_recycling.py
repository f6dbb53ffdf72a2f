"""Recompute the recycled battery-precursor datasets of ``inventories/battery_recycling.yaml``.

The figures are not published anywhere: they are computed here from Argonne's EverBatt 2023
model (``EverBatt 2023.xlsm``, read from the public copy in
lingrany/EverBatt-LFP-Recycling-Analysis @ dcfe27f2), with the same GREET 2022 emission factors
(sheet 'GREET IO') that ``inventories/battery_cells.yaml`` cites for the virgin materials.
Every input below names its sheet and cell. The workbook's own result cells are #DIV/0!
because no feed is entered, so the formulas are re-evaluated here for a feed of 1 kg of
spent NMC811 cells (the cell make-up of ``examples/li-ion-battery-bom.yaml``).

Rule used where EverBatt leaves a choice:

* Allocation by mass over the saleable products of each stage (ISO 14044 4.3.4.2, physical
  relationship): preprocessing over black mass, aluminium and copper; hydrometallurgical
  recovery over Li2CO3, Co2+, Ni2+ and Mn2+; the smelter over copper, Co2+ and Ni2+.
  Slag, flue dust and waste carry no burden (EverBatt's own mass-allocation rows put solid
  waste, slag and flue dust in the denominator; they are left out here).
* kg per short ton: 907.2 (EverBatt 'Mat. Conv Par.' AG25, as for the virgin datasets; the
  recycling sheets use 0.0011 t/kg, 0.2 % apart).
* Electricity: EverBatt's U.S. mix ('Geographic Par.' column E), like the virgin GREET data.
* Transport of the spent cells: 500 miles by lorry ('Col&Trans Par.' D10, disassembly to
  preprocessor), linked to the built-in "transport, lorry"; preprocessing and metal recovery
  on one site (no black-mass leg).

Run from the repository root::

    python scripts/derive_battery_recycling.py
"""

from __future__ import annotations

GWP = (1.0, 29.8, 273.0)  # 'GREET IO' B113:B115 (AR6), CO2 / CH4 / N2O
KG_PER_TON = 907.2  # 'Mat. Conv Par.' AG25
MJ_PER_MMBTU = 1055.0  # 'CM Rec Par.' BI157
KM_PER_MILE = 1.609344
LORRY_KG_CO2E_PER_TKM = 0.12526627  # built-in "transport, lorry" (tests/data/cited_figures.csv)

# 'GREET IO' section 4, g per short ton: CO2 (VOC, CO, CO2) row 97, CH4 row 94, N2O row 95.
GREET_MATERIALS = {
    "limestone": ("B", 8415.7005154326071, 10.489955547754967, 0.062636941740598931),
    "sand": ("Y", 20469.333682476088, 43.355399315679641, 0.41555593331994545),
    "sulfuric acid": ("AE", 37987.503943919779, 58.472421645081596, 0.91770616347671141),
    "lime": ("AA", 1146452.1446921539, 619.63302926829226, 1.1189467743231047),
    "hydrogen peroxide": ("G", 894936.40093380609, 2689.0178499588919, 21.312330718181599),
    "sodium hydroxide": ("AF", 1777011.7590384041, 4536.6996804216587, 41.447851388935042),
    "soda ash": ("E", 619085.59989888151, 696.46018085944559, 1.0005581895682276),
    "lithium hydroxide": ("AT", 20887867.406694442, 34608.883826051439, 273.12554340329621),
}


def _co2_with_carbon(co2: float, voc: float, co: float) -> float:
    # GREET counts the carbon of VOC and CO as CO2 ('GREET IO' B118:B120).
    return co2 + voc * 0.85 / (12 / 44) + co * (12 / 28) / (12 / 44)


# Energy, g per mmBtu: upstream fuel cycle plus combustion, as EverBatt adds them
# ('CM Rec Par.' CD172:CD175).
_NG = (  # 'GREET IO' B28,B29,B36:B38 (stationary NG supply) + B4,B5,B12:B14 (industrial boiler)
    _co2_with_carbon(
        6612.5157742586298 + 59366.949503269869,
        11.110765191701168 + 2.54,
        35.025568879881035 + 22.21,
    ),
    223.18874113291389 + 1.06,
    1.4177914985569811 + 0.75,
)
_DIESEL = (  # 'GREET IO' B153,B154,B161:B163 (diesel supply) + T4,T5,T12:T14 (wheel loader)
    _co2_with_carbon(
        13186.722667602997 + 77704.732390207646,
        7.5011532988214453 + 47.477513249999994,
        12.422546675550979 + 216.28644924999998,
    ),
    111.77224464924271 + 2.3527745455,
    0.24401582180145484 + 2.02,
)
_ELECTRICITY_US = (
    127933.33551547556,
    270.97124572299776,
    2.597224583249659,
)  # 'Geographic Par.' E87, E84, E85

# NMC811 cell, kg per kg ('Man Par.' G20:G32).
CELL = {
    "cathode": 0.42894807785545075,
    "graphite": 0.29097399910261995,
    "carbon black": 0.0089364182886552245,
    "PVDF": 0.0089364182886552245,
    "anode binder": 0.0059382448796453042,
    "copper": 0.077958160030188114,
    "aluminium": 0.051518663672956405,
    "LiPF6": 0.017362465813822094,
    "EC": 0.053557117180250462,
    "DMC": 0.04338085948740953,
    "PP": 0.0080347380577629694,
    "PE": 0.0016931594837039576,
    "PET": 0.0027616778588801065,
}
# Carbon mass fractions ('Preproc. Par.' AH137:AP137).
CARBON = {
    "graphite": 1,
    "carbon black": 1,
    "PET": 0.63,
    "PP": 0.86,
    "PE": 0.92,
    "EC": 0.41,
    "DMC": 0.40,
    "PVDF": 0.375,
    "anode binder": 24 / 59,
}


def per_kg(vector: tuple[float, float, float], divisor: float) -> list[float]:
    return [x / divisor for x in vector]


MATERIAL = {name: per_kg(values[1:], KG_PER_TON * 1000) for name, values in GREET_MATERIALS.items()}
NG = per_kg(_NG, MJ_PER_MMBTU * 1000)
DIESEL = per_kg(_DIESEL, MJ_PER_MMBTU * 1000)
ELECTRICITY = per_kg(_ELECTRICITY_US, MJ_PER_MMBTU * 1000)


def add(total: list[float], factor: list[float], amount: float) -> list[float]:
    return [t + amount * f for t, f in zip(total, factor, strict=True)]


def gwp(gases: list[float]) -> float:
    return sum(g * w for g, w in zip(gases, GWP, strict=True))


def elements(feed: dict[str, float]) -> dict[str, float]:
    """Element masses per kg of feed ('Preproc. Par.' C100:C105; molar masses F121:O122, J128:K128).

    Lithium counts that of the LiPF6 too, fluorine that of the PVDF, as EverBatt does.
    """
    cathode, lipf6, pvdf = feed.get("cathode", 0), feed.get("LiPF6", 0), feed.get("PVDF", 0)
    return {
        "Li": cathode * 6.94 / 97.2795 + lipf6 * 6.94 / 151.902,
        "Co": cathode * 5.8933 / 97.2795,
        "Ni": cathode * 46.9544 / 97.2795,
        "Mn": cathode * 5.4938 / 97.2795,
        "F": lipf6 * 113.988 / 151.902 + pvdf * 37.996 / 64.034,
        "P": lipf6 * 30.974 / 151.902,
    }


def burnt_co2(feed: dict[str, float], names: list[str]) -> float:
    return sum(feed[n] * CARBON[n] for n in names) * 44 / 12


def pyro() -> tuple[list[float], float, float]:
    """Generic pyrometallurgical process ('CM Rec Par.' column BD), cells fed as they are."""
    e = elements(CELL)
    base = CELL["copper"] + e["Co"] + e["Ni"]
    gases = [0.0, 0.0, 0.0]
    inputs = {  # BD88:BD91 (lime formula as written in BD91: F / 14 * 56)
        "limestone": base,
        "sand": 1.5 * base,
        "sulfuric acid": (e["Co"] / 59 + e["Ni"] / 59 + CELL["copper"] / 64) * 98,
        "lime": e["F"] / 14 * 56,
    }
    for name, amount in inputs.items():
        gases = add(gases, MATERIAL[name], amount)
    gases = add(gases, DIESEL, 0.6)  # BD104
    gases = add(gases, NG, base)  # BD105
    gases = add(gases, ELECTRICITY, CELL["copper"] * 2 * 3.6 + 0.5)  # BD106
    burnt = burnt_co2(CELL, list(CARBON))  # BC152: everything with carbon burns in the smelter
    calcined = inputs["limestone"] * 44 / 100  # BD152
    gases[0] += burnt + calcined
    products = CELL["copper"] * 0.95 + e["Co"] * 0.95 + e["Ni"] * 0.95  # BD127:BD129
    print(f"pyro, per kg cells: {inputs}, burnt CO2 {burnt:.6f}, calcination CO2 {calcined:.6f}")
    print(f"  gases {gases}, GWP {gwp(gases):.6f}; products {products:.6f} kg")
    tkm = 500 * KM_PER_MILE / 1000
    return [g / products for g in gases], tkm / products, products


def preprocessing() -> tuple[list[float], float, float]:
    """Generic preprocessing ('Preproc. Par.' AD) of 1 kg of cells.

    Returns the gases per kg of cells, the black mass (kg) and its mass share of the
    saleable products (black mass, aluminium and copper scrap).
    """
    e = elements(CELL)
    pre = [0.0, 0.0, 0.0]
    lime = e["F"] / 38 * 56 + e["P"] / 62 * 168  # AD69
    pre = add(pre, MATERIAL["lime"], lime)
    pre = add(pre, DIESEL, 0.6)  # AD79
    pre = add(pre, NG, 2.0)  # AD80
    pre = add(pre, ELECTRICITY, 0.2)  # AD81
    burnt = burnt_co2(CELL, ["PET", "PP", "PE", "EC", "DMC", "PVDF", "anode binder"])  # AC150
    pre[0] += burnt
    black_mass = (CELL["cathode"] + CELL["graphite"] + CELL["carbon black"]) * 0.95 + (
        CELL["PVDF"] + CELL["anode binder"] + CELL["copper"] + CELL["aluminium"]
    ) * 0.05  # AD102
    scrap = CELL["aluminium"] * 0.9 + CELL["copper"] * 0.9  # AD103, AD104
    share = black_mass / (black_mass + scrap)
    print(
        f"preprocessing, per kg cells: lime {lime:.6f}, burnt CO2 {burnt:.6f}, "
        f"gases {pre}, GWP {gwp(pre):.6f}"
    )
    print(
        f"  black mass {black_mass:.6f} kg, Al + Cu scrap {scrap:.6f} kg, "
        f"mass share of black mass {share:.6f}"
    )
    return pre, black_mass, share


def hydro() -> tuple[list[float], float]:
    """Generic preprocessing ('Preproc. Par.' AD), then hydrometallurgy ('CM Rec Par.' CD)."""
    pre, black_mass, share = preprocessing()
    feed = {
        "cathode": CELL["cathode"] * 0.95 / black_mass,
        "PVDF": CELL["PVDF"] * 0.05 / black_mass,
    }  # AD121, AD127
    e = elements(feed)
    moles = e["Co"] / 59 + e["Ni"] / 59 + e["Mn"] / 55
    inputs = {  # CD88:CD92
        "sulfuric acid": e["Li"] / 14 * 98 + moles * 98 * 2,
        "hydrogen peroxide": moles / 2 * 34,
        "sodium hydroxide": moles * 4 * 40,
        "soda ash": e["Li"] / 14 * 106,
        "lime": e["F"] / 38 * 56,
    }
    recovery = [0.0, 0.0, 0.0]
    for name, amount in inputs.items():
        recovery = add(recovery, MATERIAL[name], amount)
    recovery = add(recovery, DIESEL, 0.6)  # CD104
    recovery = add(recovery, NG, 1 + 4 * e["Li"] / 7 * 37)  # CD105
    recovery = add(recovery, ELECTRICITY, 0.9)  # CD106
    products = e["Li"] * 0.9 / 7 * 37 + (e["Co"] + e["Ni"] + e["Mn"]) * 0.98  # CD126:CD129
    print(f"hydrometallurgy, per kg black mass: elements {e}, inputs {inputs}")
    print(f"  gases {recovery}, GWP {gwp(recovery):.6f}; products {products:.6f} kg")
    per_black_mass = [r + p * share / black_mass for r, p in zip(recovery, pre, strict=True)]
    tkm = 500 * KM_PER_MILE / 1000 * share / black_mass
    return [g / products for g in per_black_mass], tkm / products


def direct() -> tuple[list[float], float]:
    """Generic preprocessing, then the generic direct process ('CM Rec Par.' column DC/DD).

    The black mass is relithiated as it is: lithium hydroxide tops up 30 % of the lithium
    (DD88: Li / 7 x 0.3 x 24), lime binds the fluorine (DD89); 0.6 MJ diesel (DD104),
    natural gas 0.4 MJ per kg of cathode and graphite plus 2 MJ per kg of cathode
    (DD105), electricity 0.5 MJ plus 4 kWh per kg of cathode (DD106). Nothing burns
    (fates DC113:DC121: recycle, landfill, intermediate). Products: the cathode material
    and the graphite, 90 % of each (DD126, DD131), one burden per kg by mass allocation.
    """
    pre, black_mass, share = preprocessing()
    # 'Preproc. Par.' AD117:AD130 (shared formula): kg in cells x 0.95 or 0.05 / black mass
    feed = {
        "cathode": CELL["cathode"] * 0.95 / black_mass,
        "graphite": CELL["graphite"] * 0.95 / black_mass,
        "carbon black": CELL["carbon black"] * 0.95 / black_mass,
        "PVDF": CELL["PVDF"] * 0.05 / black_mass,
    }
    e = elements(feed)
    inputs = {
        "lithium hydroxide": e["Li"] * 0.3 / 7 * 24,  # DD88
        "lime": e["F"] / 38 * 56,  # DD89
    }
    recovery = [0.0, 0.0, 0.0]
    for name, amount in inputs.items():
        recovery = add(recovery, MATERIAL[name], amount)
    recovery = add(recovery, DIESEL, 0.6)  # DD104
    recovery = add(recovery, NG, 0.4 * (feed["cathode"] + feed["graphite"]) + 2 * feed["cathode"])
    recovery = add(recovery, ELECTRICITY, 0.5 + feed["cathode"] * 4 * 3.6)  # DD106
    products = (feed["cathode"] + feed["graphite"]) * 0.9  # DD126, DD131
    print(f"direct, per kg black mass: feed {feed}, inputs {inputs}")
    print(f"  gases {recovery}, GWP {gwp(recovery):.6f}; products {products:.6f} kg")
    per_black_mass = [r + p * share / black_mass for r, p in zip(recovery, pre, strict=True)]
    tkm = 500 * KM_PER_MILE / 1000 * share / black_mass
    return [g / products for g in per_black_mass], tkm / products


def show(name: str, gases: list[float], tkm: float, extra: float = 0.0) -> None:
    total = gwp(gases) + tkm * LORRY_KG_CO2E_PER_TKM + extra
    print(
        f"{name}: CO2 {gases[0]:.6g} CH4 {gases[1]:.6g} N2O {gases[2]:.6g} kg, "
        f"lorry {tkm:.6g} tkm -> {total:.6f} kg CO2e"
    )


def main() -> None:
    pyro_gases, pyro_tkm, _ = pyro()
    hydro_gases, hydro_tkm = hydro()
    show("recovered product, pyro", pyro_gases, pyro_tkm)
    show("recovered product, hydro", hydro_gases, hydro_tkm)
    # 'Mat. Conv Par.' rows 42-49: M(ion)/M(sulfate) kg of ion per kg sulfate, plus sulfuric acid.
    acid = MATERIAL["sulfuric acid"]
    for route, gases, tkm in (("pyro", pyro_gases, pyro_tkm), ("hydro", hydro_gases, hydro_tkm)):
        for salt, ion, molar, acid_kg in (
            ("NiSO4", 58.7, 154.7, 98 / 154.7),
            ("CoSO4", 58.9, 154.9, 98 / 154.9),
        ):
            k = ion / molar
            print(
                f"{salt}, {route}: {k:.6f} kg product + {acid_kg:.6f} kg H2SO4 "
                f"({gwp(acid) * acid_kg:.6f})"
            )
            show(f"  {salt}, {route}", add([g * k for g in gases], acid, acid_kg), tkm * k)
    show("Li2CO3, hydro", hydro_gases, hydro_tkm)
    lioh = add(
        add([g * 74 / 48 for g in hydro_gases], MATERIAL["lime"], 7 / 6), NG, 11.275483091573868
    )
    show("LiOH, hydro", lioh, hydro_tkm * 74 / 48)
    direct_gases, direct_tkm = direct()
    show("NMC811 cathode or graphite, direct", direct_gases, direct_tkm)


if __name__ == "__main__":
    main()
