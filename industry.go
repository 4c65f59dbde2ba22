package handoff

import "strings"

// Industry classes of AccountFacts.IndustryClass: one documented taxonomy
// (docs/ladder.md, "Industries") onto which HubSpot's industry enum values
// and labels, Salesforce's Account.Industry picklist and Marketo's free
// text all map, so a ladder condition such as account.regulated or
// account.industry_class == 'insurance' means the same whichever CRM the
// account came from and however it is spelled.
const (
	IndustryBanking                = "banking"
	IndustryFinancialServices      = "financial_services"
	IndustryInsurance              = "insurance"
	IndustryHealthcare             = "healthcare"
	IndustryPharmaLifeSciences     = "pharma_life_sciences"
	IndustryGovernment             = "government"
	IndustryEducation              = "education"
	IndustryTechnology             = "technology"
	IndustryTelecom                = "telecom"
	IndustryMedia                  = "media"
	IndustryRetail                 = "retail"
	IndustryManufacturing          = "manufacturing"
	IndustryEnergyUtilities        = "energy_utilities"
	IndustryTransportation         = "transportation"
	IndustryHospitality            = "hospitality"
	IndustryConstructionRealEstate = "construction_real_estate"
	IndustryProfessionalServices   = "professional_services"
	IndustryAgriculture            = "agriculture"
	IndustryNonprofit              = "nonprofit"
	IndustryOther                  = "other"
)

// IndustryClasses lists every class NormalizeIndustry returns, regulated
// ones first.
var IndustryClasses = []string{
	IndustryBanking, IndustryFinancialServices, IndustryInsurance, IndustryHealthcare, IndustryPharmaLifeSciences,
	IndustryGovernment, IndustryEducation, IndustryTechnology, IndustryTelecom, IndustryMedia, IndustryRetail,
	IndustryManufacturing, IndustryEnergyUtilities, IndustryTransportation, IndustryHospitality,
	IndustryConstructionRealEstate, IndustryProfessionalServices, IndustryAgriculture, IndustryNonprofit, IndustryOther,
}

// RegulatedIndustry reports whether buyers of the class work under sector
// rules that make legal, security and contract questions a compliance
// matter (vendor-risk reviews, data-protection terms, audit rights):
//   - banking: prudential supervision and outsourcing rules (EBA outsourcing
//     guidelines, EU DORA, US interagency third-party guidance), GLBA;
//   - financial_services: securities and payments rules (SEC/FINRA, FCA,
//     EU DORA, PCI DSS), GLBA;
//   - insurance: insurance supervisors (NAIC data-security model law,
//     Solvency II), EU DORA covers insurers too;
//   - healthcare: patient data (HIPAA business associate agreements, GDPR
//     art. 9 health data);
//   - pharma_life_sciences: GxP and electronic-records rules (FDA 21 CFR
//     Part 11, EU GMP Annex 11), medical-device rules, clinical data;
//   - government: public procurement and public-sector security
//     (FedRAMP/StateRAMP, CJIS for law enforcement, ITAR/DFARS for
//     defense, public-records and data-residency laws).
func RegulatedIndustry(class string) bool {
	switch class {
	case IndustryBanking, IndustryFinancialServices, IndustryInsurance, IndustryHealthcare, IndustryPharmaLifeSciences, IndustryGovernment:
		return true
	}
	return false
}

// NormalizeIndustry maps a CRM's industry value onto the taxonomy: HubSpot
// enum values (HOSPITAL_HEALTH_CARE) and labels ("Hospital & Health
// Care"), Salesforce picklist values ("Healthcare", "Not For Profit") and
// free text as Marketo holds it ("health care", "Credit Union", "Banca",
// "Öffentliche Verwaltung"), whatever the case, punctuation, "&"/"and" or
// plural. regulated is RegulatedIndustry(class). A value it cannot place
// is ("", false): unknown, not "other" (which is what the CRM said).
func NormalizeIndustry(v string) (class string, regulated bool) {
	words := industryWords(v)
	if len(words) == 0 {
		return "", false
	}
	if c, ok := industryExact[strings.Join(words, "")]; ok {
		return c, RegulatedIndustry(c)
	}
	padded := " " + strings.Join(words, " ") + " "
	for _, r := range industryKeywords {
		for _, k := range r.keys {
			if industryHas(padded, words, k) {
				return r.class, RegulatedIndustry(r.class)
			}
		}
	}
	return "", false
}

// industryHas reports whether the words contain the phrase k ("credit
// union"), or, when k ends in "*", a word starting with it ("pharma*").
func industryHas(padded string, words []string, k string) bool {
	if p, ok := strings.CutSuffix(k, "*"); ok {
		for _, w := range words {
			if strings.HasPrefix(w, p) {
				return true
			}
		}
		return false
	}
	return strings.Contains(padded, " "+k+" ")
}

var industryFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ä", "a", "ã", "a", "å", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e",
	"í", "i", "ì", "i", "î", "i", "ï", "i",
	"ó", "o", "ò", "o", "ô", "o", "ö", "o", "õ", "o",
	"ú", "u", "ù", "u", "û", "u", "ü", "u",
	"ç", "c", "ñ", "n", "ß", "ss", "&", " and ", "+", " and ",
)

// industryStop are the connecting words left out of a key, so "Food &
// Beverages", "Food and Beverages" and FOOD_BEVERAGES meet.
var industryStop = map[string]bool{
	"and": true, "or": true, "of": true, "the": true, "amp": true,
	"und": true, "y": true, "e": true, "et": true, "de": true, "del": true, "des": true, "du": true,
	"la": true, "le": true, "el": true, "der": true, "die": true, "das": true, "da": true, "do": true, "di": true,
}

// industryWords lower-cases and folds v, splits it into words on anything
// but letters and digits, drops connecting words and a plural "s".
func industryWords(v string) []string {
	s := industryFold.Replace(strings.ToLower(strings.TrimSpace(v)))
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
	out := fields[:0]
	for _, w := range fields {
		if industryStop[w] {
			continue
		}
		switch {
		case len(w) > 4 && strings.HasSuffix(w, "ies"):
			w = w[:len(w)-3] + "y" // utilities, libraries
		case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
			w = w[:len(w)-1]
		}
		out = append(out, w)
	}
	return out
}

// industryValues maps known CRM values to their class: every option of
// HubSpot's default company property "industry" (as enum values; their
// labels normalize to the same keys), Salesforce's standard
// Account.Industry picklist, and common free-text spellings. Keys are
// normalized by industryWords when the table is built.
var industryValues = map[string][]string{
	IndustryBanking: {
		"BANKING", "Bank", "Banks", "Retail Banking", "Commercial Banking", "Credit Union", "Credit Unions",
		"Savings and Loan", "Building Society", "Banca", "Banco", "Banque", "Bankwesen", "Banken",
	},
	IndustryFinancialServices: {
		"FINANCIAL_SERVICES", "INVESTMENT_BANKING", "INVESTMENT_MANAGEMENT", "CAPITAL_MARKETS", "VENTURE_CAPITAL_PRIVATE_EQUITY",
		"Finance", "Financial", "Fintech", "Fin Tech", "Financial Technology", "Payments", "Asset Management", "Wealth Management",
		"Private Equity", "Venture Capital", "Lending", "Brokerage", "Servicios Financieros", "Finanzdienstleistungen",
		"Services financiers", "Serviços financeiros", "Servizi finanziari", "Finanzas", "Finanzen", "Finanças",
	},
	IndustryInsurance: {
		"INSURANCE", "Insurer", "Reinsurance", "Insurtech", "Seguros", "Seguradora", "Aseguradora", "Versicherung", "Versicherungen",
		"Assurance", "Assurances", "Assicurazioni", "Assicurazione",
	},
	IndustryHealthcare: {
		"HOSPITAL_HEALTH_CARE", "MEDICAL_PRACTICE", "MENTAL_HEALTH_CARE", "ALTERNATIVE_MEDICINE",
		"Healthcare", "Health Care", "Health", "Hospital", "Hospitals", "Hospitals and Health Care", "Health Services",
		"Healthcare Services", "Clinic", "Medical", "Pharmacy", "Dental", "Sanidad", "Salud", "Gesundheitswesen", "Gesundheit",
		"Santé", "Saúde", "Sanità", "Sanitario", "Krankenhaus",
	},
	IndustryPharmaLifeSciences: {
		"PHARMACEUTICALS", "BIOTECHNOLOGY", "MEDICAL_DEVICES",
		"Pharma", "Pharmaceutical", "Life Sciences", "Life Science", "Biotech", "Biopharma", "Medtech", "Medical Device",
		"Farmacéutica", "Farmacéutico", "Farmacêutica", "Farmaceutica", "Farmaceutico", "Pharmazie", "Pharmaceutique",
		"Sciences de la vie", "Ciencias de la vida", "Biowissenschaften",
	},
	IndustryGovernment: {
		"GOVERNMENT_ADMINISTRATION", "MILITARY", "LAW_ENFORCEMENT", "PUBLIC_SAFETY", "JUDICIARY", "LEGISLATIVE_OFFICE",
		"INTERNATIONAL_AFFAIRS", "DEFENSE_SPACE", "EXECUTIVE_OFFICE", "PUBLIC_POLICY", "INTERNATIONAL_TRADE_AND_DEVELOPMENT",
		"Government", "Public Sector", "Public Administration", "Federal Government", "State Government", "Local Government",
		"Defense", "Defence", "Administración Pública", "Sector Público", "Gobierno", "Öffentliche Verwaltung",
		"Oeffentliche Verwaltung", "Öffentlicher Dienst", "Öffentlicher Sektor", "Administration publique", "Secteur public",
		"Setor público", "Administração pública", "Governo", "Pubblica amministrazione", "Settore pubblico",
	},
	IndustryEducation: {
		"E_LEARNING", "EDUCATION_MANAGEMENT", "HIGHER_EDUCATION", "PRIMARY_SECONDARY_EDUCATION", "PROFESSIONAL_TRAINING_COACHING",
		"RESEARCH", "LIBRARIES",
		"Education", "Edtech", "University", "Universities", "School", "Schools", "Educación", "Educação", "Bildung", "Istruzione",
	},
	IndustryTechnology: {
		"COMPUTER_SOFTWARE", "COMPUTER_HARDWARE", "COMPUTER_NETWORKING", "COMPUTER_NETWORK_SECURITY", "INTERNET",
		"INFORMATION_TECHNOLOGY_AND_SERVICES", "INFORMATION_SERVICES", "NANOTECHNOLOGY", "SEMICONDUCTORS",
		"Technology", "Tech", "Software", "SaaS", "IT", "IT Services", "Information Technology", "High Tech", "Cybersecurity",
		"Tecnología", "Tecnologia", "Technologie", "Informatique", "Informatik",
	},
	IndustryTelecom: {
		"TELECOMMUNICATIONS", "WIRELESS",
		"Communications", "Telecom", "Telecoms", "Telco", "Telecomunicaciones", "Telekommunikation", "Télécommunications",
		"Telecomunicações", "Telecomunicazioni",
	},
	IndustryMedia: {
		"BROADCAST_MEDIA", "MEDIA_PRODUCTION", "MOTION_PICTURES_AND_FILM", "MUSIC", "NEWSPAPERS", "ONLINE_MEDIA", "PUBLISHING",
		"ENTERTAINMENT", "ANIMATION", "PERFORMING_ARTS", "FINE_ART", "PHOTOGRAPHY", "WRITING_AND_EDITING", "COMPUTER_GAMES",
		"Media", "Media and Entertainment", "Gaming", "Medien",
	},
	IndustryRetail: {
		"RETAIL", "SUPERMARKETS", "CONSUMER_GOODS", "CONSUMER_SERVICES", "LUXURY_GOODS_JEWELRY", "APPAREL_FASHION", "COSMETICS",
		"SPORTING_GOODS", "WHOLESALE", "FOOD_BEVERAGES", "WINE_AND_SPIRITS", "TOBACCO", "ARTS_AND_CRAFTS",
		"Apparel", "Food & Beverage", "E-commerce", "Ecommerce", "Consumer", "CPG", "FMCG", "Handel", "Einzelhandel",
		"Commerce de détail", "Comercio", "Varejo",
	},
	IndustryManufacturing: {
		"AUTOMOTIVE", "AVIATION_AEROSPACE", "BUILDING_MATERIALS", "BUSINESS_SUPPLIES_AND_EQUIPMENT", "CHEMICALS",
		"CONSUMER_ELECTRONICS", "ELECTRICAL_ELECTRONIC_MANUFACTURING", "FOOD_PRODUCTION", "FURNITURE", "GLASS_CERAMICS_CONCRETE",
		"INDUSTRIAL_AUTOMATION", "MACHINERY", "MECHANICAL_OR_INDUSTRIAL_ENGINEERING", "MINING_METALS", "PACKAGING_AND_CONTAINERS",
		"PAPER_FOREST_PRODUCTS", "PLASTICS", "PRINTING", "RAILROAD_MANUFACTURE", "SHIPBUILDING", "TEXTILES",
		"Manufacturing", "Electronics", "Industrial", "Industrials", "Aerospace", "Fertigung", "Industrie", "Industria", "Manufactura",
	},
	IndustryEnergyUtilities: {
		"OIL_ENERGY", "UTILITIES", "RENEWABLES_ENVIRONMENT", "ENVIRONMENTAL_SERVICES",
		"Energy", "Environmental", "Oil and Gas", "Power", "Energie", "Energía", "Energia", "Énergie",
	},
	IndustryTransportation: {
		"AIRLINES_AVIATION", "LOGISTICS_AND_SUPPLY_CHAIN", "MARITIME", "PACKAGE_FREIGHT_DELIVERY", "TRANSPORTATION_TRUCKING_RAILROAD",
		"WAREHOUSING", "IMPORT_AND_EXPORT",
		"Shipping", "Transportation", "Transport", "Logistics", "Logística", "Logistik",
	},
	IndustryHospitality: {
		"HOSPITALITY", "LEISURE_TRAVEL_TOURISM", "RESTAURANTS", "RECREATIONAL_FACILITIES_AND_SERVICES", "GAMBLING_CASINOS",
		"EVENTS_SERVICES", "SPORTS", "HEALTH_WELLNESS_AND_FITNESS",
		"Recreation", "Travel", "Tourism", "Hotels", "Leisure",
	},
	IndustryConstructionRealEstate: {
		"REAL_ESTATE", "COMMERCIAL_REAL_ESTATE", "CONSTRUCTION", "ARCHITECTURE_PLANNING", "CIVIL_ENGINEERING", "FACILITIES_SERVICES",
		"Property", "Real Estate", "Construcción", "Bau", "Immobilien",
	},
	IndustryProfessionalServices: {
		"ACCOUNTING", "ALTERNATIVE_DISPUTE_RESOLUTION", "LAW_PRACTICE", "LEGAL_SERVICES", "MANAGEMENT_CONSULTING", "HUMAN_RESOURCES",
		"STAFFING_AND_RECRUITING", "MARKETING_AND_ADVERTISING", "MARKET_RESEARCH", "PUBLIC_RELATIONS_AND_COMMUNICATIONS",
		"OUTSOURCING_OFFSHORING", "TRANSLATION_AND_LOCALIZATION", "DESIGN", "GRAPHIC_DESIGN", "SECURITY_AND_INVESTIGATIONS",
		"GOVERNMENT_RELATIONS",
		"Consulting", "Engineering", "Legal", "Law", "Professional Services", "Business Services", "Advertising", "Marketing",
		"Beratung", "Consultoría", "Conseil",
	},
	IndustryAgriculture: {
		"FARMING", "RANCHING", "DAIRY", "FISHERY",
		"Agriculture", "Agribusiness", "Agricultura", "Landwirtschaft",
	},
	IndustryNonprofit: {
		"NON_PROFIT_ORGANIZATION_MANAGEMENT", "NONPROFIT_ORGANIZATION_MANAGEMENT", "PHILANTHROPY", "FUND_RAISING",
		"CIVIC_SOCIAL_ORGANIZATION", "RELIGIOUS_INSTITUTIONS", "MUSEUMS_AND_INSTITUTIONS", "POLITICAL_ORGANIZATION", "THINK_TANKS",
		"INDIVIDUAL_FAMILY_SERVICES", "PROGRAM_DEVELOPMENT",
		"Not For Profit", "Nonprofit", "Non-profit", "NGO", "Charity", "Sin ánimo de lucro", "Gemeinnützig", "Association",
	},
	IndustryOther: {
		"VETERINARY",
		"Other", "Others", "Otro", "Otros", "Sonstige", "Autre", "Autres", "Outro", "Altro", "Misc", "Miscellaneous",
	},
}

// industryExact is industryValues keyed by normalized words joined without
// spaces, so "Health Care" meets "Healthcare" and "Non-Profit" "Nonprofit".
var industryExact = func() map[string]string {
	m := map[string]string{}
	for class, vs := range industryValues {
		for _, v := range vs {
			m[strings.Join(industryWords(v), "")] = class
		}
	}
	return m
}()

// industryKeywords place free text the table does not hold ("Regional
// Bank", "Health Insurance", "Municipal Government", "B2B Software"), by
// whole words (a trailing * matches a word prefix), first rule first:
// public bodies before their subject ("Ministry of Health"), insurance
// before healthcare ("Health Insurance"), pharmacies before pharma,
// banking before the military ("Navy Federal Credit Union").
var industryKeywords = normalizeKeywords([]industryRule{
	{IndustryGovernment, []string{"government*", "gobierno", "governo", "regierung", "gouvernement", "public sector", "public administration", "sector publico", "setor publico", "secteur public", "settore pubblico", "administracion publica", "administracao publica", "administration publique", "pubblica amministrazione", "offentlich*", "oeffentlich*", "municipal*", "ministry", "ministerio", "ministere", "ministero", "ministerium"}},
	{IndustryInsurance, []string{"insurance", "insurer", "reinsurance", "insurtech", "seguro*", "asegura*", "versicherung*", "assurance", "assicura*"}},
	{IndustryHealthcare, []string{"pharmacy", "pharmacie", "farmacia", "apotheke"}},
	{IndustryPharmaLifeSciences, []string{"pharma*", "biopharma*", "biotech*", "farmaceut*", "pharmazeut*", "life science", "medtech", "medical device", "clinical research", "genomic*"}},
	{IndustryBanking, []string{"bank*", "banca*", "banco*", "banque*", "credit union", "sparkasse*", "building society"}},
	{IndustryFinancialServices, []string{"fintech", "financ*", "finanz*", "investment", "capital market", "asset management", "wealth management", "private equity", "venture capital", "payment", "lending", "brokerage"}},
	{IndustryHospitality, []string{"fitness", "gym"}},
	{IndustryHealthcare, []string{"health*", "hospital", "clinic*", "medical", "medicine", "dental", "nursing", "sanidad", "salud", "gesundheit*", "sante", "saude", "sanita*", "krankenhau*", "hopital*", "ospedal*"}},
	{IndustryGovernment, []string{"military", "defense", "defence", "police", "law enforcement", "judiciary", "federal agency", "armed force"}},
	{IndustryEducation, []string{"education*", "educacion", "educacao", "university", "universidad", "universitat", "universite", "universita", "school", "college", "edtech", "elearning", "bildung", "istruzione", "academic"}},
	{IndustryTelecom, []string{"telecom*", "telco", "wireless", "telekom*", "telecomunica*"}},
	{IndustryEnergyUtilities, []string{"energy", "energie", "energia", "oil", "gas", "utility", "electricity", "renewable", "solar", "power generation"}},
	{IndustryNonprofit, []string{"nonprofit", "non profit", "not for profit", "charity", "charitable", "ngo", "foundation"}},
	{IndustryTechnology, []string{"software", "saas", "tech", "technology", "it", "internet", "computer*", "cloud", "cybersecurity", "tecnologia", "technologie", "informatique", "informatik", "semiconductor"}},
	{IndustryMedia, []string{"media", "entertainment", "publishing", "broadcast*", "film", "music", "gaming", "news"}},
	{IndustryRetail, []string{"retail*", "ecommerce", "consumer", "cpg", "fmcg", "fashion", "apparel", "grocery", "supermarket", "wholesale", "einzelhandel"}},
	{IndustryManufacturing, []string{"manufactur*", "industrial", "automotive", "aerospace", "chemical", "machinery", "fabrica*", "fertigung", "industrie", "industria"}},
	{IndustryTransportation, []string{"transport*", "logistic*", "shipping", "freight", "airline", "aviation", "maritime", "rail*", "trucking"}},
	{IndustryHospitality, []string{"hospitality", "hotel", "travel", "tourism", "restaurant", "leisure", "recreation"}},
	{IndustryConstructionRealEstate, []string{"construction", "real estate", "architecture", "property"}},
	{IndustryProfessionalServices, []string{"consulting", "consultancy", "legal", "law", "accounting", "staffing", "recruiting", "marketing", "advertising", "agency"}},
	{IndustryAgriculture, []string{"agri*", "farm*"}},
})

type industryRule struct {
	class string
	keys  []string
}

// normalizeKeywords spells each whole-word keyword as industryWords does
// ("payments" becomes "payment"), so it meets the words it is matched with.
func normalizeKeywords(rules []industryRule) []industryRule {
	for _, r := range rules {
		for i, k := range r.keys {
			if !strings.HasSuffix(k, "*") {
				r.keys[i] = strings.Join(industryWords(k), " ")
			}
		}
	}
	return rules
}

// Normalize fills the context's derived fields the way the enricher does
// for live traffic, so a hand-written or recorded context (ladder test,
// explain, diff) decides as it would live: Account.IndustryClass and
// Account.Regulated from Account.Industry (NormalizeIndustry). A context
// that names an industry class keeps it; Regulated stays true when set and
// is true for a regulated class.
func (c *Context) Normalize() {
	a := &c.Account
	if a.IndustryClass == "" && a.Industry != "" {
		a.IndustryClass, _ = NormalizeIndustry(a.Industry)
	}
	a.Regulated = a.Regulated || RegulatedIndustry(a.IndustryClass)
}
