package textprep

// The phrase lists below are lower case; they are matched case-insensitively
// against trimmed lines. They cover English, Spanish, German, French,
// Portuguese and Italian, the languages the ladder supports.

// replyStarters open a reply header that mail clients may wrap over two or
// three lines ("On Mon, 3 Mar 2026 at 10:00, Ana Ruiz <" / "ana@x.com> wrote:").
var replyStarters = []string{"on ", "el ", "en ", "am ", "le ", "em ", "no dia ", "il ", "il giorno "}

// replyVerbs are the "wrote" of a reply header. A header line ends with ':'.
var replyVerbs = []string{
	" wrote:", " wrote :", " writes:",
	"escribió:", "escribió :", "escribio:", "escribieron:",
	" schrieb", // "Am … schrieb Ana <a@b>:" and "Ana <a@b> schrieb am …:"
	" a écrit", " a ecrit", " ont écrit",
	"escreveu:", "escreveu :", "escreveram:",
	"ha scritto:", "ha scritto :", "scrisse:",
}

// separatorPhrases are "-----Original Message-----" lines (dashes stripped):
// a reply thread starts below them.
var separatorPhrases = []string{
	"original message", "original-nachricht", "ursprüngliche nachricht",
	"mensaje original", "message d'origine", "message d’origine", "message original",
	"mensagem original", "messaggio originale",
}

// forwardPhrases mark a forwarded message (dashes and a trailing ':' stripped).
var forwardPhrases = []string{
	"forwarded message", "begin forwarded message", "forwarded e-mail", "forwarded email",
	"mensaje reenviado", "inicio del mensaje reenviado", "correo reenviado",
	"weitergeleitete nachricht", "anfang der weitergeleiteten nachricht",
	"message transféré", "message transfere", "début du message réexpédié", "message réexpédié",
	"mensagem encaminhada", "mensagem reencaminhada", "início da mensagem reencaminhada",
	"messaggio inoltrato", "inizio messaggio inoltrato",
}

// fromKeys open an Outlook-style header block; otherKeys must follow within a
// few lines for the block to count.
var fromKeys = []string{"from", "de", "von", "da"}

var otherKeys = []string{
	"sent", "date", "to", "cc", "bcc", "subject", "reply-to",
	"enviado", "enviado el", "fecha", "para", "asunto", "cco",
	"gesendet", "datum", "an", "betreff", "kopie",
	"envoyé", "envoyé le", "envoye", "à", "a", "objet",
	"enviada em", "enviado em", "enviada", "data", "assunto",
	"inviato", "oggetto", "inviato il",
}

// signOffs close a message. gratitude marks the ones that are also ordinary
// content ("Thanks!"): they start a signature only when a name follows.
type signOff struct {
	phrase    string
	gratitude bool
}

var signOffs = []signOff{
	// English
	{"best regards", false}, {"kind regards", false}, {"warm regards", false},
	{"warmest regards", false}, {"best wishes", false}, {"all the best", false},
	{"regards", false}, {"yours sincerely", false}, {"sincerely", false},
	{"yours truly", false}, {"respectfully", false}, {"cheers", false}, {"best", false},
	{"br", false}, {"thanks and regards", false}, {"thanks & regards", false},
	{"thank you so much", true}, {"thank you very much", true}, {"thanks so much", true},
	{"thanks a lot", true}, {"many thanks", true}, {"thanks in advance", true}, {"thanks again", true},
	{"thank you", true}, {"thanks", true}, {"thx", true},
	// Spanish
	{"un cordial saludo", false}, {"saludos cordiales", false}, {"un saludo", false},
	{"saludos", false}, {"atentamente", false}, {"un abrazo", false}, {"abrazos", false},
	{"muchas gracias", true}, {"gracias", true},
	// German
	{"mit freundlichen grüßen", false}, {"mit freundlichen grüssen", false},
	{"freundliche grüße", false}, {"freundliche grüsse", false}, {"viele grüße", false},
	{"viele grüsse", false}, {"beste grüße", false}, {"beste grüsse", false},
	{"liebe grüße", false}, {"liebe grüsse", false}, {"herzliche grüße", false},
	{"schöne grüße", false}, {"grüße", false}, {"gruß", false}, {"mfg", false}, {"lg", false},
	{"vielen dank", true}, {"danke", true},
	// French
	{"bien cordialement", false}, {"très cordialement", false}, {"cordialement", false},
	{"bien à vous", false}, {"bien a vous", false}, {"sincères salutations", false},
	{"salutations", false}, {"amicalement", false}, {"bonne journée", false},
	{"merci beaucoup", true}, {"merci d'avance", true}, {"merci", true},
	// Portuguese
	{"atenciosamente", false}, {"melhores cumprimentos", false}, {"cumprimentos", false},
	{"abraços", false}, {"abraço", false}, {"um abraço", false}, {"saudações", false},
	{"att", false}, {"muito obrigado", true}, {"muito obrigada", true},
	{"obrigado", true}, {"obrigada", true},
	// Italian
	{"cordiali saluti", false}, {"distinti saluti", false}, {"un saluto", false},
	{"saluti", false}, {"buona giornata", false}, {"a presto", false},
	{"grazie mille", true}, {"grazie", true},
}

// mobileFooters are the lines mail apps add under a message.
var mobileFooters = []string{
	"sent from my ", "sent from outlook", "sent from mail for", "sent from yahoo mail",
	"sent from gmail", "sent via ", "sent with ", "get outlook for ",
	"enviado desde mi ", "enviado desde outlook", "enviado desde yahoo", "obtener outlook para",
	"von meinem ", "gesendet von meinem ", "gesendet von outlook", "outlook für ",
	"envoyé de mon ", "envoyé depuis mon ", "envoyé à partir de ", "obtenir outlook pour",
	"enviado do meu ", "enviado a partir do ", "enviado via ", "obter o outlook para",
	"inviato da ", "inviato dal mio ", "scarica outlook per",
}

// disclaimerHeads start a disclaimer on their own.
var disclaimerHeads = []string{
	"confidentiality notice", "confidentiality note", "confidential notice",
	"confidentiality statement", "legal disclaimer", "disclaimer", "privileged and confidential",
	"aviso de confidencialidad", "aviso legal", "cláusula de confidencialidad", "clausula de confidencialidad",
	"vertraulichkeitshinweis", "haftungsausschluss", "rechtlicher hinweis",
	"avis de confidentialité", "avis de confidentialite", "avertissement de confidentialité",
	"aviso de confidencialidade",
	"avviso di riservatezza", "informativa sulla riservatezza", "nota di riservatezza",
}

// printFooters are the "think before you print" lines, a disclaimer on
// their own.
var printFooters = []string{
	"please consider the environment", "think before you print", "save paper",
	"por favor, considere el medio ambiente", "antes de imprimir",
	"bitte denken sie an die umwelt", "denken sie an die umwelt",
	"pensez à l'environnement", "merci de penser à l'environnement", "avant d'imprimer",
	"antes de imprimir, pense", "prima di stampare", "pensa all'ambiente",
}

// disclaimerLeads start a sentence that is a disclaimer when its paragraph
// also speaks of confidentiality and of the recipient.
var disclaimerLeads = []string{
	"this email", "this e-mail", "this message", "this communication", "this electronic",
	"the information contained in", "the information in this", "the contents of this",
	"if you are not the intended", "if you have received this", "if you received this",
	"este mensaje", "este correo", "este e-mail", "este email", "la información contenida",
	"si usted no es el destinatario", "si no es usted el destinatario", "si ha recibido",
	"diese e-mail", "diese email", "diese nachricht", "die informationen in dieser",
	"wenn sie nicht der richtige", "sollten sie diese", "falls sie diese",
	"ce message", "ce courriel", "ce mail", "cet e-mail", "cet email", "les informations contenues",
	"si vous n'êtes pas", "si vous n’êtes pas", "si vous avez reçu",
	"esta mensagem", "este e-mail", "as informações contidas", "se você não for",
	"se você recebeu",
	"questa e-mail", "questa email", "questo messaggio", "questa comunicazione",
	"le informazioni contenute", "se non siete", "se avete ricevuto", "se ha ricevuto",
}

var confidentialWords = []string{
	"confidential", "privileged", "vertraulich", "confidencial", "confidentiel",
	"riservat", "sigilo", "reservad",
}

var recipientWords = []string{
	"recipient", "addressee", "intended", "destinatari", "destinatário", "destinataire",
	"empfänger", "adressat", "notify the sender", "received this", "erhalten",
	"reçu ce", "recibido", "recebeu", "ricevuto", "unauthori", "prohibited", "prohibid",
	"untersagt", "interdit", "proibid", "vietat",
}

// bannerTags are the bracketed tags mail gateways put on the first line.
var bannerTags = []string{
	"external", "externo", "externa", "externe", "extern", "esterno", "esterna",
	"external email", "external sender", "ext", "caution: external", "correo externo",
	"e-mail externe", "email esterna", "e-mail externo",
}

// bannerLeads open a caution paragraph at the top of a message; bannerWords
// must appear in it.
var bannerLeads = []string{
	"caution", "warning", "external email", "external sender", "external message",
	"this email originated", "this message originated", "this message came from",
	"this email came from", "attention", "notice: external",
	"precaución", "precaucion", "atención", "atencion", "advertencia", "correo externo",
	"este correo se originó", "este correo proviene",
	"achtung", "vorsicht", "warnung", "externe e-mail", "diese e-mail stammt",
	"attention :", "avertissement", "ce courriel provient", "ce message provient", "e-mail externe",
	"atenção", "atencao", "aviso", "este e-mail foi", "este e-mail é", "e-mail externo",
	"attenzione", "avviso", "questa e-mail proviene", "questa email proviene", "email esterna",
	"you don't often get email from", "you don’t often get email from",
}

var bannerWords = []string{
	"from outside", "outside of the organization", "outside your organization",
	"outside the organization", "outside of your organization", "external sender",
	"external email", "external e-mail", "do not click", "unless you recognize",
	"learn why this is important", "fuera de la organización", "fuera de su organización",
	"fuera de nuestra organización", "remitente externo", "correo externo",
	"außerhalb", "ausserhalb", "externen absender", "externe e-mail", "externer absender",
	"de l'extérieur", "à l'extérieur", "extérieur à", "externe à", "expéditeur externe",
	"e-mail externe", "courriel externe", "fora da organização", "fora de sua organização",
	"fora da sua organização", "remetente externo", "e-mail externo",
	"all'esterno", "esterno all", "mittente esterno", "email esterna", "e-mail esterna",
}

// titleWords make a short line look like a job title or a company line.
var titleWords = []string{
	"manager", "director", "head of", "vp ", "vice president", "president", "ceo", "cto",
	"cfo", "coo", "cio", "founder", "officer", "engineer", "specialist", "counsel",
	"procurement", "purchasing", "buyer", "consultant", "analyst", "executive",
	"gerente", "jefe", "jefa", "responsable", "directora", "compras",
	"leiter", "leiterin", "geschäftsführer", "einkauf", "abteilung",
	"directeur", "directrice", "chef de", "achats", "juridique",
	"diretor", "diretora", "coordenador", "coordenadora", "gestor",
	"responsabile", "direttore", "direttrice", "amministratore", "acquisti", "ufficio",
	"legal", "contracts", "inc", "ltd", "llc", "gmbh", "s.a.", "s.l.", "srl", "s.r.l.",
	"s.p.a.", "ltda", "sas", " ag",
}

// psLeads keep a postscript under a signature as content.
var psLeads = []string{"p.s", "ps:", "ps.", "ps ", "pd:", "p.d.", "n.b."}

// forwardSubjects prefix the subject of a forwarded message.
var forwardSubjects = []string{"fw:", "fwd:", "wg:", "tr:", "rv:", "enc:", "i:", "fw :", "tr :"}

var subjectKeys = []string{"subject", "asunto", "betreff", "objet", "sujet", "assunto", "oggetto"}
