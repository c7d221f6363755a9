"""Message catalogue of the report: one table, four languages, numbers and dates by Babel.

:data:`MESSAGES` maps a message id to its text in each language of
:data:`LANGUAGES`; ``{name}`` placeholders are filled by :meth:`Messages.t`
and every language of a message has the same placeholders (a test checks
it). Numbers use the locale's decimal and group signs from Babel's CLDR data
(``2,3 ha`` in Spanish, ``2.3 ha`` in English), dates Babel's long format.

Statuses and rule codes stay the machine's codes in the CSV, the GeoParquet
and the evidence records; the report shows the words and keeps the code in
tooltips and ``data-`` attributes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any, Literal

import pandas as pd

__all__ = ["LANGUAGES", "MESSAGES", "Lang", "Messages", "messages"]

Lang = Literal["es", "en", "fr", "pt"]

#: The languages of the report, Spanish first (the cooperative's).
LANGUAGES: tuple[str, ...] = ("es", "en", "fr", "pt")


def _m(es: str, en: str, fr: str, pt: str) -> dict[str, str]:
    return {"es": es, "en": en, "fr": fr, "pt": pt}


#: Every text of the report by message id, in each language.
MESSAGES: dict[str, dict[str, str]] = {
    # statuses
    "status.deforestation_free": _m(
        "libre de deforestación",
        "deforestation-free",
        "sans déforestation",
        "livre de desmatamento",
    ),
    "status.needs_review": _m("por revisar", "needs review", "à vérifier", "a revisar"),
    "status.deforestation_detected": _m(
        "deforestación detectada",
        "deforestation detected",
        "déforestation détectée",
        "desmatamento detectado",
    ),
    "status.invalid_geometry": _m(
        "geometría no válida", "invalid geometry", "géométrie invalide", "geometria inválida"
    ),
    # title, header, navigation
    "title": _m(
        "Evaluación libre de deforestación (EUDR)",
        "Deforestation-free assessment (EUDR)",
        "Évaluation sans déforestation (RDUE)",
        "Avaliação livre de desmatamento (EUDR)",
    ),
    "header": _m(
        "{n} parcelas · fecha de corte {cutoff} · reglas {rules} · agroforest_geo {version}",
        "{n} parcels · cut-off {cutoff} · rules {rules} · agroforest_geo {version}",
        "{n} parcelles · date butoir {cutoff} · règles {rules} · agroforest_geo {version}",
        "{n} parcelas · data de corte {cutoff} · regras {rules} · agroforest_geo {version}",
    ),
    "nav.summary": _m("Resumen", "Summary", "Résumé", "Resumo"),
    "nav.map": _m("Mapa", "Map", "Carte", "Mapa"),
    "nav.loss": _m("Pérdida por año", "Loss per year", "Perte par an", "Perda por ano"),
    "nav.declared": _m(
        "Declarado y medido", "Declared vs measured", "Déclaré et mesuré", "Declarado e medido"
    ),
    "nav.parcels": _m("Parcelas", "Parcels", "Parcelles", "Parcelas"),
    "nav.sheets": _m("Fichas por parcela", "Parcel sheets", "Fiches par parcelle", "Fichas"),
    "nav.validation": _m("Validación", "Validation", "Validation", "Validação"),
    "nav.inputs": _m(
        "Datos y parámetros", "Inputs & parameters", "Données et paramètres", "Dados e parâmetros"
    ),
    # summary
    "summary.area": _m(
        "Superficie por estado: {areas}.",
        "Area by status: {areas}.",
        "Surface par statut : {areas}.",
        "Área por estado: {areas}.",
    ),
    "summary.by": _m("Por {column}", "By {column}", "Par {column}", "Por {column}"),
    "summary.by_system": _m(
        "Por sistema agroforestal",
        "By agroforestry system",
        "Par système agroforestier",
        "Por sistema agroflorestal",
    ),
    "summary.total": _m("total", "total", "total", "total"),
    "summary.none": _m("(sin dato)", "(none)", "(aucun)", "(nenhum)"),
    "nav.carbon": _m("Carbono", "Carbon", "Carbone", "Carbono"),
    "carbon.system": _m("sistema", "system", "système", "sistema"),
    "carbon.plots": _m("parcelas agroforestales", "plots", "placettes", "talhões"),
    "carbon.trees": _m("árboles medidos", "trees measured", "arbres mesurés", "árvores medidas"),
    "carbon.agb": _m(
        "biomasa aérea (Mg)",
        "above-ground biomass (Mg)",
        "biomasse aérienne (Mg)",
        "biomassa aérea (Mg)",
    ),
    "carbon.co2e": _m("CO₂e (t)", "CO₂e (t)", "CO₂e (t)", "CO₂e (t)"),
    "carbon.ci": _m(
        "intervalo 95 % (t)", "95 % interval (t)", "intervalle 95 % (t)", "intervalo 95 % (t)"
    ),
    "carbon.ha": _m(
        "CO₂e por ha (t/ha)", "CO₂e per ha (t/ha)", "CO₂e par ha (t/ha)", "CO₂e por ha (t/ha)"
    ),
    "carbon.map": _m(
        "CO₂e según el mapa de biomasa, por sistema",
        "CO₂e by the biomass map, per system",
        "CO₂e selon la carte de biomasse, par système",
        "CO₂e segundo o mapa de biomassa, por sistema",
    ),
    "carbon.note": _m(
        "Totales del inventario (Chave et al. 2014 por defecto); el intervalo del total viene de "
        "la suma de las simulaciones Monte Carlo, no de la suma de los intervalos. Las "
        "densidades por hectárea no se suman: son totales entre hectáreas sumadas.",
        "Inventory totals (Chave et al. 2014 by default); the interval of a total comes from the "
        "summed Monte-Carlo draws, not from summed intervals. Per-hectare values do not add up: "
        "they are totals over summed hectares.",
        "Totaux de l'inventaire (Chave et al. 2014 par défaut) ; l'intervalle d'un total vient de "
        "la somme des tirages Monte-Carlo, pas de la somme des intervalles. Les valeurs par "
        "hectare ne s'additionnent pas.",
        "Totais do inventário (Chave et al. 2014 por padrão); o intervalo de um total vem da soma "
        "dos sorteios de Monte Carlo, não da soma dos intervalos. Valores por hectare não se "
        "somam.",
    ),
    "summary.country": _m(
        "País de producción y nivel de riesgo de la UE (Reglamento de Ejecución (UE) 2025/1093)",
        "Country of production and EU risk tier (Implementing Regulation (EU) 2025/1093)",
        "Pays de production et niveau de risque UE (règlement d'exécution (UE) 2025/1093)",
        "País de produção e nível de risco da UE (Regulamento de Execução (UE) 2025/1093)",
    ),
    "risk.low": _m("riesgo bajo", "low risk", "risque faible", "risco baixo"),
    "risk.standard": _m("riesgo estándar", "standard risk", "risque standard", "risco padrão"),
    "risk.high": _m("riesgo alto", "high risk", "risque élevé", "risco alto"),
    "risk.none": _m("fuera de todo país", "outside every country", "hors de tout pays", "fora"),
    "summary.note": _m(
        "Un sistema agroforestal no es bosque según el art. 2(4) del EUDR: la cobertura arbórea "
        "por sí sola nunca hace que una parcela incumpla; la pérdida después de la fecha de "
        "corte sí (ver la tabla de reglas).",
        "Agroforestry is not forest under EUDR Art. 2(4): tree cover alone never makes a parcel "
        "non-compliant; loss after the cut-off does (see the rule table).",
        "L'agroforesterie n'est pas une forêt au sens de l'art. 2(4) du RDUE : le couvert arboré "
        "seul ne rend jamais une parcelle non conforme ; la perte après la date butoir, si.",
        "Sistemas agroflorestais não são floresta segundo o art. 2(4) do EUDR: a cobertura "
        "arbórea sozinha nunca torna uma parcela não conforme; a perda após a data de corte sim.",
    ),
    "system.no_plot": _m("sin parcela", "no plot", "sans parcelle", "sem parcela"),
    # map
    "map.cluster": _m(
        "Zona {k} de {n}: {count} parcelas",
        "Area {k} of {n}: {count} parcels",
        "Zone {k} sur {n} : {count} parcelles",
        "Zona {k} de {n}: {count} parcelas",
    ),
    "map.help": _m(
        "Rueda para acercar, arrastrar para mover, pasar el cursor sobre una parcela para ver "
        "su estado y motivos. Dibujado en {crs}.",
        "Scroll to zoom, drag to pan, hover a parcel for its status and reasons. Drawn in {crs}.",
        "Molette pour zoomer, glisser pour déplacer, survoler une parcelle pour son statut et "
        "ses motifs. Dessiné en {crs}.",
        "Role para aproximar, arraste para mover, passe o cursor sobre uma parcela para ver o "
        "estado e os motivos. Desenhado em {crs}.",
    ),
    "map.crs": _m(
        "proyección azimutal equidistante centrada en {lat}° / {lon}°",
        "azimuthal equidistant projection centred on {lat}° / {lon}°",
        "projection azimutale équidistante centrée sur {lat}° / {lon}°",
        "projeção azimutal equidistante centrada em {lat}° / {lon}°",
    ),
    "map.protected": _m(
        "áreas protegidas / REDD+",
        "protected / REDD+ areas",
        "aires protégées / REDD+",
        "áreas protegidas / REDD+",
    ),
    "map.conflicts": _m(
        "terreno reclamado dos veces / dentro de áreas protegidas",
        "land claimed twice / inside protected areas",
        "terrain revendiqué deux fois / dans des aires protégées",
        "terra reivindicada duas vezes / dentro de áreas protegidas",
    ),
    "map.loss": _m(
        "pérdida después de la fecha de corte",
        "loss after the cut-off",
        "perte après la date butoir",
        "perda após a data de corte",
    ),
    "map.neighbours": _m(
        "parcelas vecinas", "neighbouring parcels", "parcelles voisines", "vizinhas"
    ),
    "map.claimed_twice": _m(
        "reclamado dos veces: {a} y {b} ({ha} ha)",
        "claimed twice: {a} and {b} ({ha} ha)",
        "revendiqué deux fois : {a} et {b} ({ha} ha)",
        "reivindicado duas vezes: {a} e {b} ({ha} ha)",
    ),
    "map.inside_protected": _m(
        "parcela {id} dentro de un área protegida",
        "parcel {id} inside a protected area",
        "parcelle {id} dans une aire protégée",
        "parcela {id} dentro de uma área protegida",
    ),
    "map.zoom_in": _m("acercar", "zoom in", "zoomer", "aproximar"),
    "map.zoom_out": _m("alejar", "zoom out", "dézoomer", "afastar"),
    "map.reset": _m("toda la zona", "whole area", "toute la zone", "toda a zona"),
    # charts
    "chart.loss_note": _m(
        "Gris: hasta la fecha de corte; rojo: después. Las hectáreas se suman entre parcelas.",
        "Grey: on or before the cut-off; red: after it. Hectares add up across parcels.",
        "Gris : jusqu'à la date butoir ; rouge : après. Les hectares s'additionnent.",
        "Cinza: até a data de corte; vermelho: depois. Os hectares somam entre parcelas.",
    ),
    "chart.loss_axis": _m("pérdida (ha)", "loss (ha)", "perte (ha)", "perda (ha)"),
    "chart.no_loss": _m(
        "Sin datos de pérdida por año (no se dio un ráster de pérdida).",
        "No per-year loss data (no loss raster given).",
        "Pas de perte par an (aucun raster de perte).",
        "Sem perda por ano (nenhum raster de perda).",
    ),
    "chart.declared_off": _m(
        "{n} parcela(s) declaradas con más de 10 % de diferencia con la superficie medida (rojo).",
        "{n} parcel(s) declared more than 10 % off the measured area (red).",
        "{n} parcelle(s) déclarée(s) à plus de 10 % de la surface mesurée (rouge).",
        "{n} parcela(s) declarada(s) com mais de 10 % de diferença da área medida (vermelho).",
    ),
    "chart.no_declared": _m(
        "Sin superficies declaradas.",
        "No declared areas.",
        "Pas de surfaces déclarées.",
        "Sem áreas declaradas.",
    ),
    "chart.measured": _m(
        "medida (ha, elipsoidal)",
        "measured (ha, ellipsoidal)",
        "mesurée (ha, ellipsoïdale)",
        "medida (ha, elipsoidal)",
    ),
    "chart.declared": _m("declarada (ha)", "declared (ha)", "déclarée (ha)", "declarada (ha)"),
    # table
    "table.help": _m(
        "Clic en un encabezado para ordenar; en el identificador para abrir la ficha de la "
        "parcela; en la fila para verla en el mapa.",
        "Click a header to sort, an id to open the parcel's sheet, a row to show it on the map.",
        "Cliquer un en-tête pour trier, un identifiant pour la fiche, une ligne pour la carte.",
        "Clique num cabeçalho para ordenar, num id para a ficha, numa linha para o mapa.",
    ),
    "table.rows_shown": _m(
        "Se muestran {shown} de {n} filas; el CSV y el GeoParquet tienen todas.",
        "{shown} of {n} rows shown; the CSV and the GeoParquet have them all.",
        "{shown} lignes sur {n} affichées ; le CSV et le GeoParquet les ont toutes.",
        "{shown} de {n} linhas mostradas; o CSV e o GeoParquet têm todas.",
    ),
    "yes": _m("sí", "yes", "oui", "sim"),
    "no": _m("no", "no", "non", "não"),
    # sheets
    "sheet.title": _m("Parcela {id}", "Parcel {id}", "Parcelle {id}", "Parcela {id}"),
    "sheet.status": _m("Estado", "Status", "Statut", "Estado"),
    "sheet.reasons": _m("Reglas aplicadas", "Rules that fired", "Règles déclenchées", "Regras"),
    "sheet.no_rule": _m(
        "Ninguna regla se aplicó.", "No rule fired.", "Aucune règle déclenchée.", "Nenhuma regra."
    ),
    "sheet.evidence": _m(
        "Evidencia por fuente", "Evidence per source", "Preuves par source", "Evidências por fonte"
    ),
    "sheet.loss_by_year": _m(
        "Pérdida por año (ha)", "Loss by year (ha)", "Perte par an (ha)", "Perda por ano (ha)"
    ),
    "sheet.back": _m(
        "volver a la tabla", "back to the table", "retour au tableau", "voltar à tabela"
    ),
    "sheet.omitted": _m(
        "Las fichas se escriben para hasta {limit} parcelas ({n} aquí); el PDF y los registros de "
        "evidencia tienen una por parcela.",
        "Sheets are written for up to {limit} parcels ({n} here); the PDF and the evidence "
        "records have one per parcel.",
        "Les fiches sont écrites jusqu'à {limit} parcelles ({n} ici) ; le PDF et les "
        "enregistrements de preuves en ont une par parcelle.",
        "As fichas são escritas até {limit} parcelas ({n} aqui); o PDF e os registros de "
        "evidência têm uma por parcela.",
    ),
    "source.geometry": _m("geometría", "geometry", "géométrie", "geometria"),
    "source.area": _m("superficie", "area", "surface", "área"),
    "source.forest": _m(
        "bosque y pérdida", "forest and loss", "forêt et perte", "floresta e perda"
    ),
    "source.protected": _m(
        "áreas protegidas", "protected areas", "aires protégées", "áreas protegidas"
    ),
    "source.overlaps": _m("superposiciones", "overlaps", "chevauchements", "sobreposições"),
    "source.trees": _m("árboles", "trees", "arbres", "árvores"),
    "source.country": _m("país", "country", "pays", "país"),
    "source.carbon": _m("carbono", "carbon", "carbone", "carbono"),
    "source.forest_2020": _m(
        "mapa de bosque 2020", "2020 forest map", "carte forestière 2020", "mapa de floresta 2020"
    ),
    "source.commodity": _m(
        "mapa del cultivo", "commodity map", "carte de la culture", "mapa da cultura"
    ),
    "source.canopy_height": _m(
        "altura del dosel", "canopy height", "hauteur de la canopée", "altura do dossel"
    ),
    "source.records": _m(
        "registros de la cooperativa",
        "the cooperative's records",
        "registres de la coopérative",
        "registros da cooperativa",
    ),
    "source.land_use": _m("uso del suelo", "land use", "usage des terres", "uso da terra"),
    "source.alerts": _m(
        "alertas de perturbación",
        "disturbance alerts",
        "alertes de perturbation",
        "alertas de perturbação",
    ),
    "source.per_source": _m("por fuente", "per source", "par source", "por fonte"),
    # validation and provenance
    "validation.title": _m(
        "Hallazgos de validación de los datos",
        "Validation findings of the inputs",
        "Constats de validation des données",
        "Achados de validação dos dados",
    ),
    "validation.not_run": _m(
        "No se ejecutó la validación.",
        "Validation was not run.",
        "La validation n'a pas été faite.",
        "A validação não foi feita.",
    ),
    "validation.none": _m(
        "Sin hallazgos.", "No validation findings.", "Aucun constat.", "Sem achados."
    ),
    "validation.more": _m(
        "{n} hallazgos más no listados.",
        "{n} more findings not listed.",
        "{n} autres constats non listés.",
        "{n} achados a mais não listados.",
    ),
    "inputs.title": _m(
        "Datos, parámetros y versiones",
        "Inputs, parameters and versions",
        "Données, paramètres et versions",
        "Dados, parâmetros e versões",
    ),
    "inputs.files": _m(
        "Archivos de entrada", "Input files", "Fichiers d'entrée", "Arquivos de entrada"
    ),
    "inputs.none": _m(
        "No se registraron archivos.",
        "No input files recorded.",
        "Aucun fichier enregistré.",
        "Nenhum arquivo registrado.",
    ),
    "inputs.parameters": _m("Parámetros", "Parameters", "Paramètres", "Parâmetros"),
    "inputs.rules": _m("Tabla de reglas", "Rule table", "Table des règles", "Tabela de regras"),
    "inputs.outputs": _m("Otros resultados", "Other outputs", "Autres sorties", "Outras saídas"),
    "inputs.software": _m("Programas", "Software", "Logiciels", "Programas"),
    "inputs.generated": _m(
        "Generado el {when}.", "Generated {when}.", "Généré le {when}.", "Gerado em {when}."
    ),
    "none": _m("Ninguno.", "None.", "Aucun.", "Nenhum."),
    # reasons, written for people (the numbers are filled in)
    "reason.invalid_geometry": _m(
        "la geometría no es válida: {problem}",
        "the geometry is not valid: {problem}",
        "la géométrie n'est pas valide : {problem}",
        "a geometria não é válida: {problem}",
    ),
    "reason.deforestation_after_cutoff": _m(
        "{ha} ha perdidas en {years}, después de la fecha de corte (alcanza el mínimo de bosque "
        "de {threshold} ha)",
        "{ha} ha lost in {years}, after the cut-off (reaches the forest minimum of {threshold} ha)",
        "{ha} ha perdus en {years}, après la date butoir (atteint le minimum forestier de "
        "{threshold} ha)",
        "{ha} ha perdidos em {years}, após a data de corte (atinge o mínimo de floresta de "
        "{threshold} ha)",
    ),
    "reason.loss_after_cutoff": _m(
        "{ha} ha perdidas en {years}, después de la fecha de corte: por debajo del mínimo de "
        "bosque puede ser raleo o manejo de sombra; revisar",
        "{ha} ha lost in {years}, after the cut-off: below the forest minimum it may be thinning "
        "or shade-tree management; to be checked",
        "{ha} ha perdus en {years}, après la date butoir : sous le minimum forestier, éclaircie "
        "ou gestion de l'ombrage possible ; à vérifier",
        "{ha} ha perdidos em {years}, após a data de corte: abaixo do mínimo de floresta pode ser "
        "desbaste ou manejo de sombra; a revisar",
    ),
    "reason.protected_area_overlap": _m(
        "{ha} ha ({share}) dentro de áreas protegidas o REDD+: {names}",
        "{ha} ha ({share}) inside protected or REDD+ areas: {names}",
        "{ha} ha ({share}) dans des aires protégées ou REDD+ : {names}",
        "{ha} ha ({share}) dentro de áreas protegidas ou REDD+: {names}",
    ),
    "reason.parcel_overlap": _m(
        "{ha} ha compartidas con otra(s) parcela(s): {ids}",
        "{ha} ha shared with other parcel(s): {ids}",
        "{ha} ha partagés avec d'autre(s) parcelle(s) : {ids}",
        "{ha} ha compartilhados com outra(s) parcela(s): {ids}",
    ),
    "reason.no_cover_data": _m(
        "sin datos de cobertura arbórea para esta parcela",
        "no tree-cover data for this parcel",
        "pas de données de couvert arboré pour cette parcelle",
        "sem dados de cobertura arbórea para esta parcela",
    ),
    "reason.no_loss_data": _m(
        "sin datos de pérdida para esta parcela",
        "no loss data for this parcel",
        "pas de données de perte pour cette parcelle",
        "sem dados de perda para esta parcela",
    ),
    "reason.partial_raster_coverage": _m(
        "los rásteres cubren solo {share} de la parcela (mínimo {threshold})",
        "the rasters cover only {share} of the parcel (at least {threshold} needed)",
        "les rasters ne couvrent que {share} de la parcelle (au moins {threshold})",
        "os rasters cobrem só {share} da parcela (mínimo {threshold})",
    ),
    "reason.agroforestry_evidence": _m(
        "sistema agroforestal: {trees} árboles/ha con cobertura arbórea en la fecha de corte "
        "(no es bosque, art. 2(4) EUDR); solo nota",
        "agroforestry: {trees} trees/ha with tree cover at the cut-off (not forest, EUDR "
        "Art. 2(4)); note only",
        "agroforesterie : {trees} arbres/ha avec couvert arboré à la date butoir (pas une forêt, "
        "art. 2(4) RDUE) ; note seulement",
        "sistema agroflorestal: {trees} árvores/ha com cobertura arbórea na data de corte (não é "
        "floresta, art. 2(4) EUDR); apenas nota",
    ),
    "reason.possible_conversion_after_cutoff": _m(
        "{share} de la parcela era bosque en la fecha de corte según {source}; hoy tiene uso "
        "agrícola y no hay registro de uso agrícola en o antes de esa fecha: posible conversión "
        "de bosque a sistema agroforestal después de la fecha de corte; revisar",
        "{share} of the parcel was forest on the cut-off date by {source}; it is in agricultural "
        "use now and nothing records agricultural use on or before that date: possible "
        "conversion of forest to agroforestry after the cut-off; to be checked",
        "{share} de la parcelle était forêt à la date butoir selon {source} ; elle est cultivée "
        "aujourd'hui et rien n'atteste un usage agricole à cette date ou avant : conversion "
        "possible de forêt en agroforesterie après la date butoir ; à vérifier",
        "{share} da parcela era floresta na data de corte segundo {source}; hoje tem uso "
        "agrícola e nada registra uso agrícola nessa data ou antes: possível conversão de "
        "floresta em sistema agroflorestal após a data de corte; a revisar",
    ),
    "reason.alert_after_cutoff": _m(
        "{ha} ha con alertas de perturbación después de la fecha de corte ({source}, la primera "
        "el {date}); revisar",
        "{ha} ha with disturbance alerts after the cut-off ({source}, the first on {date}); "
        "to be checked",
        "{ha} ha avec des alertes de perturbation après la date butoir ({source}, la première "
        "le {date}) ; à vérifier",
        "{ha} ha com alertas de perturbação após a data de corte ({source}, a primeira em "
        "{date}); a revisar",
    ),
    "reason.agroforestry_before_cutoff": _m(
        "sistema agroforestal registrado en o antes de la fecha de corte ({source}) bajo "
        "cobertura arbórea: uso agrícola, no bosque (art. 2(4) y 2(6) EUDR); solo nota",
        "agroforestry recorded on or before the cut-off ({source}) under tree cover: "
        "agricultural use, not forest (EUDR Art. 2(4), 2(6)); note only",
        "agroforesterie attestée à la date butoir ou avant ({source}) sous couvert arboré : "
        "usage agricole, pas une forêt (art. 2(4), 2(6) RDUE) ; note seulement",
        "sistema agroflorestal registrado na data de corte ou antes ({source}) sob cobertura "
        "arbórea: uso agrícola, não floresta (art. 2(4) e 2(6) EUDR); apenas nota",
    ),
    "reason.custom": _m(
        "{description} ({values})",
        "{description} ({values})",
        "{description} ({values})",
        "{description} ({values})",
    ),
    "unknown": _m("desconocido", "unknown", "inconnu", "desconhecido"),
}

#: Words for the evidence and table columns (the raw name is kept in the tooltip).
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "status": _m("estado", "status", "statut", "estado"),
    "reasons": _m("motivos", "reasons", "motifs", "motivos"),
    "province": _m("provincia", "province", "province", "província"),
    "district": _m("distrito", "district", "district", "distrito"),
    "system": _m("sistema", "system", "système", "sistema"),
    "area_ha": _m("superficie (ha)", "area (ha)", "surface (ha)", "área (ha)"),
    "declared_area_ha": _m("declarada (ha)", "declared (ha)", "déclarée (ha)", "declarada (ha)"),
    "forest_share_cutoff": _m(
        "bosque al corte", "forest at cut-off", "forêt à la date butoir", "floresta no corte"
    ),
    "loss_after_cutoff_ha": _m(
        "pérdida tras el corte (ha)",
        "loss after cut-off (ha)",
        "perte après (ha)",
        "perda após o corte (ha)",
    ),
    "first_loss_year_after_cutoff": _m(
        "primer año de pérdida",
        "first loss year",
        "première année de perte",
        "primeiro ano de perda",
    ),
    "valid_share": _m("con datos", "with data", "avec données", "com dados"),
    "protected_share": _m(
        "en área protegida", "in protected area", "en aire protégée", "em área protegida"
    ),
    "parcel_overlap_ha": _m(
        "superposición (ha)", "overlap (ha)", "chevauchement (ha)", "sobreposição (ha)"
    ),
    "trees_per_ha": _m("árboles/ha", "trees/ha", "arbres/ha", "árvores/ha"),
    "country": _m("país", "country", "pays", "país"),
    "country_risk": _m("riesgo UE", "EU risk", "risque UE", "risco UE"),
    "agroforestry_evidence": _m("agroforestal", "agroforestry", "agroforesterie", "agroflorestal"),
    "n_geometry_errors": _m(
        "errores de geometría", "geometry errors", "erreurs de géométrie", "erros de geometria"
    ),
    "geometry_problem": _m(
        "problema de geometría",
        "geometry problem",
        "problème de géométrie",
        "problema de geometria",
    ),
    "area_difference_ha": _m(
        "declarada − medida (ha)",
        "declared − measured (ha)",
        "déclarée − mesurée (ha)",
        "declarada − medida (ha)",
    ),
    "declared_ratio": _m(
        "declarada / medida", "declared / measured", "déclarée / mesurée", "declarada / medida"
    ),
    "declared_off": _m(
        "declarada con más de 10 % de diferencia",
        "declared more than 10 % off",
        "déclarée à plus de 10 %",
        "declarada com mais de 10 % de diferença",
    ),
    "forest_ha_cutoff": _m(
        "bosque al corte (ha)",
        "forest at cut-off (ha)",
        "forêt à la date butoir (ha)",
        "floresta no corte (ha)",
    ),
    "mean_cover_pct": _m(
        "cobertura arbórea media",
        "mean tree cover",
        "couvert arboré moyen",
        "cobertura arbórea média",
    ),
    "loss_after_cutoff_share": _m(
        "pérdida tras el corte (parte)",
        "loss after cut-off (share)",
        "perte après (part)",
        "perda após o corte (parte)",
    ),
    "loss_before_cutoff_ha": _m(
        "pérdida hasta el corte (ha)",
        "loss up to the cut-off (ha)",
        "perte jusqu'à la date butoir (ha)",
        "perda até o corte (ha)",
    ),
    "protected_ha": _m(
        "en área protegida (ha)",
        "in protected area (ha)",
        "en aire protégée (ha)",
        "em área protegida (ha)",
    ),
    "n_protected_areas": _m(
        "áreas protegidas tocadas",
        "protected areas met",
        "aires protégées touchées",
        "áreas protegidas tocadas",
    ),
    "protected_area_ids": _m(
        "áreas protegidas", "protected areas", "aires protégées", "áreas protegidas"
    ),
    "protected_categories": _m("categorías", "categories", "catégories", "categorias"),
    "distance_to_protected_m": _m(
        "distancia al área protegida",
        "distance to protected area",
        "distance à l'aire protégée",
        "distância à área protegida",
    ),
    "in_buffer_band": _m(
        "en la zona de amortiguamiento",
        "in the buffer band",
        "dans la zone tampon",
        "na zona de amortecimento",
    ),
    "n_parcel_overlaps": _m(
        "parcelas superpuestas",
        "overlapping parcels (count)",
        "parcelles chevauchantes",
        "parcelas sobrepostas",
    ),
    "overlapping_parcels": _m("superpuesta con", "overlaps with", "chevauche", "sobreposta a"),
    "tree_count": _m("árboles", "trees", "arbres", "árvores"),
    "cover_valid_share": _m(
        "con datos de cobertura",
        "with cover data",
        "avec données de couvert",
        "com dados de cobertura",
    ),
    "loss_valid_share": _m(
        "con datos de pérdida", "with loss data", "avec données de perte", "com dados de perda"
    ),
    "forest_share_cutoff_source": _m(
        "fuente de cobertura", "cover source", "source du couvert", "fonte da cobertura"
    ),
    "loss_after_cutoff_ha_source": _m(
        "fuente de pérdida", "loss source", "source de la perte", "fonte da perda"
    ),
    "forest_ha_2020": _m(
        "bosque 2020 (ha)", "forest 2020 (ha)", "forêt 2020 (ha)", "floresta 2020 (ha)"
    ),
    "forest_share_2020": _m("bosque 2020", "forest 2020", "forêt 2020", "floresta 2020"),
    "forest_2020_valid_share": _m(
        "con datos del mapa 2020",
        "with 2020 map data",
        "avec données de la carte 2020",
        "com dados do mapa 2020",
    ),
    "forest_share_2020_source": _m("mapa 2020", "2020 map", "carte 2020", "mapa 2020"),
    "commodity_share_cutoff": _m(
        "cultivo en la fecha de corte",
        "commodity on the cut-off date",
        "culture à la date butoir",
        "cultura na data de corte",
    ),
    "commodity_share_now": _m(
        "cultivo hoy", "commodity now", "culture aujourd'hui", "cultura hoje"
    ),
    "commodity_cutoff_valid_share": _m(
        "con datos (mapa de la fecha de corte)",
        "with data (cut-off map)",
        "avec données (carte de la date butoir)",
        "com dados (mapa da data de corte)",
    ),
    "commodity_now_valid_share": _m(
        "con datos (mapa reciente)",
        "with data (recent map)",
        "avec données (carte récente)",
        "com dados (mapa recente)",
    ),
    "commodity_share_cutoff_source": _m(
        "mapa del cultivo (fecha de corte)",
        "commodity map (cut-off)",
        "carte de la culture (date butoir)",
        "mapa da cultura (data de corte)",
    ),
    "commodity_share_now_source": _m(
        "mapa del cultivo (hoy)",
        "commodity map (now)",
        "carte de la culture (aujourd'hui)",
        "mapa da cultura (hoje)",
    ),
    "tall_canopy_share": _m(
        "dosel de 5 m o más",
        "canopy of 5 m or more",
        "canopée de 5 m ou plus",
        "dossel de 5 m ou mais",
    ),
    "canopy_valid_share": _m(
        "con datos de altura", "with height data", "avec données de hauteur", "com dados de altura"
    ),
    "tall_canopy_share_source": _m(
        "fuente de altura", "height source", "source de hauteur", "fonte da altura"
    ),
    "agri_plots": _m(
        "parcelas agrícolas", "agricultural plots", "parcelles agricoles", "talhões agrícolas"
    ),
    "first_planting_year": _m(
        "primer año de siembra",
        "first planting year",
        "première année de plantation",
        "primeiro ano de plantio",
    ),
    "records_agri_now": _m(
        "uso agrícola registrado",
        "agricultural use recorded",
        "usage agricole enregistré",
        "uso agrícola registrado",
    ),
    "records_agri_at_cutoff": _m(
        "sembrado en o antes de la fecha de corte",
        "planted on or before the cut-off",
        "planté à la date butoir ou avant",
        "plantado na data de corte ou antes",
    ),
    "agri_use_now": _m(
        "uso agrícola hoy",
        "agricultural use now",
        "usage agricole aujourd'hui",
        "uso agrícola hoje",
    ),
    "agri_use_at_cutoff": _m(
        "uso agrícola en la fecha de corte",
        "agricultural use at the cut-off",
        "usage agricole à la date butoir",
        "uso agrícola na data de corte",
    ),
    "agri_use_now_source": _m(
        "según (uso hoy)", "by (use now)", "selon (usage aujourd'hui)", "segundo (uso hoje)"
    ),
    "agri_use_at_cutoff_source": _m(
        "según (uso en la fecha de corte)",
        "by (use at the cut-off)",
        "selon (usage à la date butoir)",
        "segundo (uso na data de corte)",
    ),
    "alert_ha_after_cutoff": _m(
        "alertas después de la fecha de corte (ha)",
        "alerts after the cut-off (ha)",
        "alertes après la date butoir (ha)",
        "alertas após a data de corte (ha)",
    ),
    "alert_share_after_cutoff": _m(
        "parcela con alertas", "parcel with alerts", "parcelle avec alertes", "parcela com alertas"
    ),
    "first_alert_date_after_cutoff": _m(
        "primera alerta", "first alert", "première alerte", "primeira alerta"
    ),
    "alert_confidence": _m(
        "confianza de la alerta", "alert confidence", "confiance de l'alerte", "confiança do alerta"
    ),
    "alert_valid_share": _m(
        "con datos de alertas", "with alert data", "avec données d'alertes", "com dados de alertas"
    ),
    "alert_ha_after_cutoff_source": _m(
        "fuente de alertas", "alert source", "source des alertes", "fonte dos alertas"
    ),
    "<label>_<column>": _m(
        "columna de una fuente",
        "one source's column",
        "colonne d'une source",
        "coluna de uma fonte",
    ),
}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def placeholders(text: str) -> set[str]:
    """Return the ``{name}`` placeholders of a message."""
    return set(_PLACEHOLDER.findall(text))


class Messages:
    """Texts, numbers and dates of one language.

    Examples
    --------
    >>> m = messages("es")
    >>> m.status("needs_review"), m.num(2.345, 1), m.num(12345.5, 0)
    ('por revisar', '2,3', '12.346')
    >>> messages("en").num(12345.5, 1)
    '12,345.5'
    """

    def __init__(self, lang: str) -> None:
        from babel import Locale
        from babel.numbers import get_decimal_symbol, get_group_symbol

        self.lang = lang
        self.locale = Locale.parse(lang)
        self._decimal = get_decimal_symbol(self.locale)
        self._group = get_group_symbol(self.locale)

    def t(self, key: str, **values: Any) -> str:
        """Return message ``key`` in this language with its placeholders filled."""
        text = MESSAGES[key][self.lang]
        return text.format(**values) if values else text

    def status(self, code: str) -> str:
        """Return the words of a status code (the code itself when unknown)."""
        entry = MESSAGES.get(f"status.{code}")
        return entry[self.lang] if entry else code

    def column(self, name: str) -> str:
        """Return the words of a table column (its name when it has none)."""
        entry = COLUMN_LABELS.get(name)
        return entry[self.lang] if entry else name

    def _swap(self, text: str) -> str:
        if (self._decimal, self._group) == (".", ","):
            return text
        return text.replace(",", "\x00").replace(".", self._decimal).replace("\x00", self._group)

    def num(self, value: Any, digits: int = 2) -> str:
        """Return a number with the locale's signs; '' for a missing value."""
        if value is None or value is pd.NA:
            return ""
        f = float(value)
        if math.isnan(f):
            return ""
        return self._swap(f"{f:,.{digits}f}")

    def pct(self, share: Any, digits: int = 1) -> str:
        """Return a share (0-1) as a percentage, ``'12,5 %'``."""
        text = self.num(None if share is None else 100 * float(share), digits)
        return f"{text} %" if text else ""

    def nums(self, values: Iterable[Any], digits: int = 2) -> list[str]:
        """Format many numbers at once (vectorised; '' for missing)."""
        arr = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(float)
        spec = f",.{digits}f"
        return ["" if v != v else self._swap(format(v, spec)) for v in arr.tolist()]

    def date(self, value: dt.date | dt.datetime) -> str:
        """Return a date in the locale's long format."""
        from babel.dates import format_date

        d = value.date() if isinstance(value, dt.datetime) else value
        return format_date(d, format="long", locale=self.locale)

    def yes_no(self, value: Any) -> str:
        """Return yes/no in this language ('' for missing)."""
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return ""
        return self.t("yes") if bool(value) else self.t("no")


def messages(lang: str) -> Messages:
    """Return the :class:`Messages` of a language of :data:`LANGUAGES`.

    Examples
    --------
    >>> messages("pt").status("deforestation_detected")
    'desmatamento detectado'
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {list(LANGUAGES)}, got {lang!r}")
    return Messages(lang)
