package handoff

import (
	"strings"
	"testing"
)

// hubspotIndustries is every option of HubSpot's default company property
// "industry": the enum value the API returns, its label, and its class.
var hubspotIndustries = []struct{ value, label, class string }{
	{"ACCOUNTING", "Accounting", IndustryProfessionalServices},
	{"AIRLINES_AVIATION", "Airlines/Aviation", IndustryTransportation},
	{"ALTERNATIVE_DISPUTE_RESOLUTION", "Alternative Dispute Resolution", IndustryProfessionalServices},
	{"ALTERNATIVE_MEDICINE", "Alternative Medicine", IndustryHealthcare},
	{"ANIMATION", "Animation", IndustryMedia},
	{"APPAREL_FASHION", "Apparel & Fashion", IndustryRetail},
	{"ARCHITECTURE_PLANNING", "Architecture & Planning", IndustryConstructionRealEstate},
	{"ARTS_AND_CRAFTS", "Arts and Crafts", IndustryRetail},
	{"AUTOMOTIVE", "Automotive", IndustryManufacturing},
	{"AVIATION_AEROSPACE", "Aviation & Aerospace", IndustryManufacturing},
	{"BANKING", "Banking", IndustryBanking},
	{"BIOTECHNOLOGY", "Biotechnology", IndustryPharmaLifeSciences},
	{"BROADCAST_MEDIA", "Broadcast Media", IndustryMedia},
	{"BUILDING_MATERIALS", "Building Materials", IndustryManufacturing},
	{"BUSINESS_SUPPLIES_AND_EQUIPMENT", "Business Supplies and Equipment", IndustryManufacturing},
	{"CAPITAL_MARKETS", "Capital Markets", IndustryFinancialServices},
	{"CHEMICALS", "Chemicals", IndustryManufacturing},
	{"CIVIC_SOCIAL_ORGANIZATION", "Civic & Social Organization", IndustryNonprofit},
	{"CIVIL_ENGINEERING", "Civil Engineering", IndustryConstructionRealEstate},
	{"COMMERCIAL_REAL_ESTATE", "Commercial Real Estate", IndustryConstructionRealEstate},
	{"COMPUTER_NETWORK_SECURITY", "Computer & Network Security", IndustryTechnology},
	{"COMPUTER_GAMES", "Computer Games", IndustryMedia},
	{"COMPUTER_HARDWARE", "Computer Hardware", IndustryTechnology},
	{"COMPUTER_NETWORKING", "Computer Networking", IndustryTechnology},
	{"COMPUTER_SOFTWARE", "Computer Software", IndustryTechnology},
	{"CONSTRUCTION", "Construction", IndustryConstructionRealEstate},
	{"CONSUMER_ELECTRONICS", "Consumer Electronics", IndustryManufacturing},
	{"CONSUMER_GOODS", "Consumer Goods", IndustryRetail},
	{"CONSUMER_SERVICES", "Consumer Services", IndustryRetail},
	{"COSMETICS", "Cosmetics", IndustryRetail},
	{"DAIRY", "Dairy", IndustryAgriculture},
	{"DEFENSE_SPACE", "Defense & Space", IndustryGovernment},
	{"DESIGN", "Design", IndustryProfessionalServices},
	{"E_LEARNING", "E-Learning", IndustryEducation},
	{"EDUCATION_MANAGEMENT", "Education Management", IndustryEducation},
	{"ELECTRICAL_ELECTRONIC_MANUFACTURING", "Electrical/Electronic Manufacturing", IndustryManufacturing},
	{"ENTERTAINMENT", "Entertainment", IndustryMedia},
	{"ENVIRONMENTAL_SERVICES", "Environmental Services", IndustryEnergyUtilities},
	{"EVENTS_SERVICES", "Events Services", IndustryHospitality},
	{"EXECUTIVE_OFFICE", "Executive Office", IndustryGovernment},
	{"FACILITIES_SERVICES", "Facilities Services", IndustryConstructionRealEstate},
	{"FARMING", "Farming", IndustryAgriculture},
	{"FINANCIAL_SERVICES", "Financial Services", IndustryFinancialServices},
	{"FINE_ART", "Fine Art", IndustryMedia},
	{"FISHERY", "Fishery", IndustryAgriculture},
	{"FOOD_BEVERAGES", "Food & Beverages", IndustryRetail},
	{"FOOD_PRODUCTION", "Food Production", IndustryManufacturing},
	{"FUND_RAISING", "Fund-Raising", IndustryNonprofit},
	{"FURNITURE", "Furniture", IndustryManufacturing},
	{"GAMBLING_CASINOS", "Gambling & Casinos", IndustryHospitality},
	{"GLASS_CERAMICS_CONCRETE", "Glass, Ceramics & Concrete", IndustryManufacturing},
	{"GOVERNMENT_ADMINISTRATION", "Government Administration", IndustryGovernment},
	{"GOVERNMENT_RELATIONS", "Government Relations", IndustryProfessionalServices},
	{"GRAPHIC_DESIGN", "Graphic Design", IndustryProfessionalServices},
	{"HEALTH_WELLNESS_AND_FITNESS", "Health, Wellness and Fitness", IndustryHospitality},
	{"HIGHER_EDUCATION", "Higher Education", IndustryEducation},
	{"HOSPITAL_HEALTH_CARE", "Hospital & Health Care", IndustryHealthcare},
	{"HOSPITALITY", "Hospitality", IndustryHospitality},
	{"HUMAN_RESOURCES", "Human Resources", IndustryProfessionalServices},
	{"IMPORT_AND_EXPORT", "Import and Export", IndustryTransportation},
	{"INDIVIDUAL_FAMILY_SERVICES", "Individual & Family Services", IndustryNonprofit},
	{"INDUSTRIAL_AUTOMATION", "Industrial Automation", IndustryManufacturing},
	{"INFORMATION_SERVICES", "Information Services", IndustryTechnology},
	{"INFORMATION_TECHNOLOGY_AND_SERVICES", "Information Technology and Services", IndustryTechnology},
	{"INSURANCE", "Insurance", IndustryInsurance},
	{"INTERNATIONAL_AFFAIRS", "International Affairs", IndustryGovernment},
	{"INTERNATIONAL_TRADE_AND_DEVELOPMENT", "International Trade and Development", IndustryGovernment},
	{"INTERNET", "Internet", IndustryTechnology},
	{"INVESTMENT_BANKING", "Investment Banking", IndustryFinancialServices},
	{"INVESTMENT_MANAGEMENT", "Investment Management", IndustryFinancialServices},
	{"JUDICIARY", "Judiciary", IndustryGovernment},
	{"LAW_ENFORCEMENT", "Law Enforcement", IndustryGovernment},
	{"LAW_PRACTICE", "Law Practice", IndustryProfessionalServices},
	{"LEGAL_SERVICES", "Legal Services", IndustryProfessionalServices},
	{"LEGISLATIVE_OFFICE", "Legislative Office", IndustryGovernment},
	{"LEISURE_TRAVEL_TOURISM", "Leisure, Travel & Tourism", IndustryHospitality},
	{"LIBRARIES", "Libraries", IndustryEducation},
	{"LOGISTICS_AND_SUPPLY_CHAIN", "Logistics and Supply Chain", IndustryTransportation},
	{"LUXURY_GOODS_JEWELRY", "Luxury Goods & Jewelry", IndustryRetail},
	{"MACHINERY", "Machinery", IndustryManufacturing},
	{"MANAGEMENT_CONSULTING", "Management Consulting", IndustryProfessionalServices},
	{"MARITIME", "Maritime", IndustryTransportation},
	{"MARKET_RESEARCH", "Market Research", IndustryProfessionalServices},
	{"MARKETING_AND_ADVERTISING", "Marketing and Advertising", IndustryProfessionalServices},
	{"MECHANICAL_OR_INDUSTRIAL_ENGINEERING", "Mechanical or Industrial Engineering", IndustryManufacturing},
	{"MEDIA_PRODUCTION", "Media Production", IndustryMedia},
	{"MEDICAL_DEVICES", "Medical Devices", IndustryPharmaLifeSciences},
	{"MEDICAL_PRACTICE", "Medical Practice", IndustryHealthcare},
	{"MENTAL_HEALTH_CARE", "Mental Health Care", IndustryHealthcare},
	{"MILITARY", "Military", IndustryGovernment},
	{"MINING_METALS", "Mining & Metals", IndustryManufacturing},
	{"MOTION_PICTURES_AND_FILM", "Motion Pictures and Film", IndustryMedia},
	{"MUSEUMS_AND_INSTITUTIONS", "Museums and Institutions", IndustryNonprofit},
	{"MUSIC", "Music", IndustryMedia},
	{"NANOTECHNOLOGY", "Nanotechnology", IndustryTechnology},
	{"NEWSPAPERS", "Newspapers", IndustryMedia},
	{"NONPROFIT_ORGANIZATION_MANAGEMENT", "Non-Profit Organization Management", IndustryNonprofit},
	{"OIL_ENERGY", "Oil & Energy", IndustryEnergyUtilities},
	{"ONLINE_MEDIA", "Online Media", IndustryMedia},
	{"OUTSOURCING_OFFSHORING", "Outsourcing/Offshoring", IndustryProfessionalServices},
	{"PACKAGE_FREIGHT_DELIVERY", "Package/Freight Delivery", IndustryTransportation},
	{"PACKAGING_AND_CONTAINERS", "Packaging and Containers", IndustryManufacturing},
	{"PAPER_FOREST_PRODUCTS", "Paper & Forest Products", IndustryManufacturing},
	{"PERFORMING_ARTS", "Performing Arts", IndustryMedia},
	{"PHARMACEUTICALS", "Pharmaceuticals", IndustryPharmaLifeSciences},
	{"PHILANTHROPY", "Philanthropy", IndustryNonprofit},
	{"PHOTOGRAPHY", "Photography", IndustryMedia},
	{"PLASTICS", "Plastics", IndustryManufacturing},
	{"POLITICAL_ORGANIZATION", "Political Organization", IndustryNonprofit},
	{"PRIMARY_SECONDARY_EDUCATION", "Primary/Secondary Education", IndustryEducation},
	{"PRINTING", "Printing", IndustryManufacturing},
	{"PROFESSIONAL_TRAINING_COACHING", "Professional Training & Coaching", IndustryEducation},
	{"PROGRAM_DEVELOPMENT", "Program Development", IndustryNonprofit},
	{"PUBLIC_POLICY", "Public Policy", IndustryGovernment},
	{"PUBLIC_RELATIONS_AND_COMMUNICATIONS", "Public Relations and Communications", IndustryProfessionalServices},
	{"PUBLIC_SAFETY", "Public Safety", IndustryGovernment},
	{"PUBLISHING", "Publishing", IndustryMedia},
	{"RAILROAD_MANUFACTURE", "Railroad Manufacture", IndustryManufacturing},
	{"RANCHING", "Ranching", IndustryAgriculture},
	{"REAL_ESTATE", "Real Estate", IndustryConstructionRealEstate},
	{"RECREATIONAL_FACILITIES_AND_SERVICES", "Recreational Facilities and Services", IndustryHospitality},
	{"RELIGIOUS_INSTITUTIONS", "Religious Institutions", IndustryNonprofit},
	{"RENEWABLES_ENVIRONMENT", "Renewables & Environment", IndustryEnergyUtilities},
	{"RESEARCH", "Research", IndustryEducation},
	{"RESTAURANTS", "Restaurants", IndustryHospitality},
	{"RETAIL", "Retail", IndustryRetail},
	{"SECURITY_AND_INVESTIGATIONS", "Security and Investigations", IndustryProfessionalServices},
	{"SEMICONDUCTORS", "Semiconductors", IndustryTechnology},
	{"SHIPBUILDING", "Shipbuilding", IndustryManufacturing},
	{"SPORTING_GOODS", "Sporting Goods", IndustryRetail},
	{"SPORTS", "Sports", IndustryHospitality},
	{"STAFFING_AND_RECRUITING", "Staffing and Recruiting", IndustryProfessionalServices},
	{"SUPERMARKETS", "Supermarkets", IndustryRetail},
	{"TELECOMMUNICATIONS", "Telecommunications", IndustryTelecom},
	{"TEXTILES", "Textiles", IndustryManufacturing},
	{"THINK_TANKS", "Think Tanks", IndustryNonprofit},
	{"TOBACCO", "Tobacco", IndustryRetail},
	{"TRANSLATION_AND_LOCALIZATION", "Translation and Localization", IndustryProfessionalServices},
	{"TRANSPORTATION_TRUCKING_RAILROAD", "Transportation/Trucking/Railroad", IndustryTransportation},
	{"UTILITIES", "Utilities", IndustryEnergyUtilities},
	{"VENTURE_CAPITAL_PRIVATE_EQUITY", "Venture Capital & Private Equity", IndustryFinancialServices},
	{"VETERINARY", "Veterinary", IndustryOther},
	{"WAREHOUSING", "Warehousing", IndustryTransportation},
	{"WHOLESALE", "Wholesale", IndustryRetail},
	{"WINE_AND_SPIRITS", "Wine and Spirits", IndustryRetail},
	{"WIRELESS", "Wireless", IndustryTelecom},
	{"WRITING_AND_EDITING", "Writing and Editing", IndustryMedia},
}

// hubspotLabel is what the HubSpot connector passes on for an enum value
// (its IndustryLabel: words title-cased, BANKING → "Banking").
func hubspotLabel(v string) string {
	words := strings.Split(strings.ToLower(v), "_")
	for i, w := range words {
		if w != "and" && w != "or" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func TestNormalizeIndustryHubSpot(t *testing.T) {
	if len(hubspotIndustries) != 147 {
		t.Fatalf("%d HubSpot options in the table, want the 147 documented ones", len(hubspotIndustries))
	}
	for _, h := range hubspotIndustries {
		for _, in := range []string{h.value, h.label, hubspotLabel(h.value), strings.ToLower(h.label), strings.ToUpper(h.label)} {
			got, reg := NormalizeIndustry(in)
			if got != h.class || reg != RegulatedIndustry(h.class) {
				t.Errorf("NormalizeIndustry(%q) = %q, %v; want %q, %v", in, got, reg, h.class, RegulatedIndustry(h.class))
			}
		}
	}
}

// Salesforce's standard Account.Industry picklist values.
func TestNormalizeIndustrySalesforce(t *testing.T) {
	cases := map[string]string{
		"Agriculture": IndustryAgriculture, "Apparel": IndustryRetail, "Banking": IndustryBanking,
		"Biotechnology": IndustryPharmaLifeSciences, "Chemicals": IndustryManufacturing, "Communications": IndustryTelecom,
		"Construction": IndustryConstructionRealEstate, "Consulting": IndustryProfessionalServices, "Education": IndustryEducation,
		"Electronics": IndustryManufacturing, "Energy": IndustryEnergyUtilities, "Engineering": IndustryProfessionalServices,
		"Entertainment": IndustryMedia, "Environmental": IndustryEnergyUtilities, "Finance": IndustryFinancialServices,
		"Food & Beverage": IndustryRetail, "Government": IndustryGovernment, "Healthcare": IndustryHealthcare,
		"Hospitality": IndustryHospitality, "Insurance": IndustryInsurance, "Machinery": IndustryManufacturing,
		"Manufacturing": IndustryManufacturing, "Media": IndustryMedia, "Not For Profit": IndustryNonprofit, "Other": IndustryOther,
		"Recreation": IndustryHospitality, "Retail": IndustryRetail, "Shipping": IndustryTransportation,
		"Technology": IndustryTechnology, "Telecommunications": IndustryTelecom, "Transportation": IndustryTransportation,
		"Utilities": IndustryEnergyUtilities,
	}
	if len(cases) != 32 {
		t.Fatalf("%d Salesforce values, want the 32 standard ones", len(cases))
	}
	checkIndustries(t, cases)
}

// Free text as Marketo (or a custom CRM field) holds it: case, punctuation,
// &/and, plurals, synonyms, other languages, and words inside longer text.
func TestNormalizeIndustryFreeText(t *testing.T) {
	checkIndustries(t, map[string]string{
		"health care": IndustryHealthcare, "Health-Care": IndustryHealthcare, "HEALTHCARE": IndustryHealthcare,
		"Hospital": IndustryHealthcare, "Hospitals": IndustryHealthcare, "Hospitals and Health Care": IndustryHealthcare,
		"Public Sector": IndustryGovernment, "public-sector": IndustryGovernment, "Local Government": IndustryGovernment,
		"Municipality of Springfield": IndustryGovernment, "Ministry of Finance": IndustryGovernment, "Ministry of Health": IndustryGovernment,
		"Fintech": IndustryFinancialServices, "FinTech": IndustryFinancialServices, "Fin-Tech": IndustryFinancialServices,
		"Payments": IndustryFinancialServices, "Asset & Wealth Management": IndustryFinancialServices,
		"Credit Union": IndustryBanking, "credit unions": IndustryBanking, "Navy Federal Credit Union": IndustryBanking,
		"Regional Bank": IndustryBanking, "Community Banking": IndustryBanking,
		"Life Sciences": IndustryPharmaLifeSciences, "life-science": IndustryPharmaLifeSciences, "Biotech": IndustryPharmaLifeSciences,
		"Pharma": IndustryPharmaLifeSciences, "Medical Device Manufacturer": IndustryPharmaLifeSciences,
		"Health Insurance": IndustryInsurance, "Retail Pharmacy": IndustryHealthcare,
		"Food and Beverages": IndustryRetail, "food+beverage": IndustryRetail, "Oil and Gas": IndustryEnergyUtilities,
		"B2B Software": IndustryTechnology, "SaaS": IndustryTechnology, "IT Services": IndustryTechnology,
		"Software Development": IndustryTechnology, "Non-Profit": IndustryNonprofit, "not-for-profit": IndustryNonprofit,
		"Higher Ed & Universities": IndustryEducation, "Health & Fitness": IndustryHospitality, "Armed Forces": IndustryGovernment,
		"Insurance &amp; Reinsurance": IndustryInsurance,
		// Local-language words.
		"Banca": IndustryBanking, "Banco": IndustryBanking, "Bank": IndustryBanking, "Banque": IndustryBanking,
		"Banco Santander": IndustryBanking, "Banken": IndustryBanking,
		"Seguros": IndustryInsurance, "Versicherung": IndustryInsurance, "Versicherungen": IndustryInsurance,
		"Assurance": IndustryInsurance, "Assicurazioni": IndustryInsurance, "Compañía de Seguros": IndustryInsurance,
		"Sanidad": IndustryHealthcare, "Salud": IndustryHealthcare, "Gesundheitswesen": IndustryHealthcare,
		"Santé": IndustryHealthcare, "Saúde": IndustryHealthcare, "Sanità": IndustryHealthcare, "Krankenhaus": IndustryHealthcare,
		"Administración Pública": IndustryGovernment, "Öffentliche Verwaltung": IndustryGovernment,
		"Administration publique": IndustryGovernment, "Setor público": IndustryGovernment,
		"Pubblica amministrazione": IndustryGovernment, "Sector público": IndustryGovernment,
		"Farmacéutica":           IndustryPharmaLifeSciences,
		"Industria farmacéutica": IndustryPharmaLifeSciences, "Pharmazeutische Industrie": IndustryPharmaLifeSciences,
		"Servicios financieros": IndustryFinancialServices, "Finanzdienstleistungen": IndustryFinancialServices,
		"Telecomunicaciones": IndustryTelecom, "Tecnología": IndustryTechnology, "Educación": IndustryEducation,
		"Otros": IndustryOther, "Sonstige": IndustryOther,
	})
}

// Unknown values are unknown, not "other".
func TestNormalizeIndustryUnknown(t *testing.T) {
	for _, in := range []string{"", "  ", "-", "Widgets", "Acme Corp", "n/a"} {
		if got, reg := NormalizeIndustry(in); got != "" || reg {
			t.Errorf("NormalizeIndustry(%q) = %q, %v; want \"\", false", in, got, reg)
		}
	}
}

func checkIndustries(t *testing.T, cases map[string]string) {
	t.Helper()
	for in, want := range cases {
		got, reg := NormalizeIndustry(in)
		if got != want || reg != RegulatedIndustry(want) {
			t.Errorf("NormalizeIndustry(%q) = %q, %v; want %q, %v", in, got, reg, want, RegulatedIndustry(want))
		}
	}
}

func TestRegulatedIndustries(t *testing.T) {
	var regulated []string
	for _, c := range IndustryClasses {
		if RegulatedIndustry(c) {
			regulated = append(regulated, c)
		}
	}
	want := "banking financial_services insurance healthcare pharma_life_sciences government"
	if got := strings.Join(regulated, " "); got != want {
		t.Errorf("regulated classes %q, want %q", got, want)
	}
	if RegulatedIndustry("") || RegulatedIndustry("Banking") {
		t.Error("only class ids are regulated")
	}
}

// No spelling in the table may name two classes (the later one would
// silently win), and every class the table names is a documented one.
func TestIndustryTableConsistent(t *testing.T) {
	seen := map[string]string{}
	known := map[string]bool{}
	for _, c := range IndustryClasses {
		known[c] = true
	}
	for class, vs := range industryValues {
		if !known[class] {
			t.Errorf("class %q is not in IndustryClasses", class)
		}
		for _, v := range vs {
			k := strings.Join(industryWords(v), "")
			if k == "" {
				t.Errorf("%q normalizes to nothing", v)
			}
			if prev, ok := seen[k]; ok && prev != class {
				t.Errorf("%q (key %q) is both %s and %s", v, k, prev, class)
			}
			seen[k] = class
		}
	}
	for _, r := range industryKeywords {
		if !known[r.class] {
			t.Errorf("keyword class %q is not in IndustryClasses", r.class)
		}
	}
}

func TestContextNormalize(t *testing.T) {
	c := Context{Account: AccountFacts{Industry: "HOSPITAL_HEALTH_CARE"}}
	c.Normalize()
	if c.Account.IndustryClass != IndustryHealthcare || !c.Account.Regulated {
		t.Errorf("from industry: %+v", c.Account)
	}
	// An explicit class wins over the industry.
	c = Context{Account: AccountFacts{Industry: "Banking", IndustryClass: IndustryOther}}
	c.Normalize()
	if c.Account.IndustryClass != IndustryOther || c.Account.Regulated {
		t.Errorf("explicit class: %+v", c.Account)
	}
	// Regulated set on its own stays set.
	c = Context{Account: AccountFacts{Industry: "Widgets", Regulated: true}}
	c.Normalize()
	if c.Account.IndustryClass != "" || !c.Account.Regulated {
		t.Errorf("explicit regulated: %+v", c.Account)
	}
	// An explicit regulated class without regulated is regulated.
	c = Context{Account: AccountFacts{IndustryClass: IndustryInsurance}}
	c.Normalize()
	if !c.Account.Regulated {
		t.Errorf("explicit class, regulated derived: %+v", c.Account)
	}
}
