package textprep

import "testing"

func TestPrepareSpanish(t *testing.T) {
	runCases(t, []prepCase{
		{
			name: "gmail reply with signature and disclaimer",
			in: `Hola Bob:

¿Podéis enviarnos el precio para 80 licencias? Necesitamos factura antes de fin de mes.

Un saludo,
Lucía Martín
Responsable de Compras | Acme Iberia S.L.
Tel. +34 912 345 678

Este mensaje es confidencial y está dirigido exclusivamente a su destinatario. Si lo ha recibido por error, notifíquelo al remitente y elimínelo.

El lun, 2 mar 2026 a las 16:12, Bob Stone (<bob@vendor.example>) escribió:
> Hola Lucía, adjunto el contrato marco (MSA) y el informe SOC 2.
`,
			want:   "Hola Bob:\n\n¿Podéis enviarnos el precio para 80 licencias? Necesitamos factura antes de fin de mes.",
			quoted: "contrato marco|escribió:",
			sig:    "Un saludo,|Responsable de Compras",
			disc:   "Este mensaje es confidencial",
		},
		{
			name: "outlook spanish header block",
			in: `Perfecto, adelante con el pedido.

Saludos

De: Bob Stone <bob@vendor.example>
Enviado: lunes, 2 de marzo de 2026 16:12
Para: Javier Gil <javier@acme.example>
Asunto: RE: Propuesta

Javier, nuestro equipo legal revisará las condiciones.
`,
			want:   "Perfecto, adelante con el pedido.",
			quoted: "equipo legal|Asunto: RE: Propuesta",
			sig:    "Saludos",
		},
		{
			name: "forward with note and mobile footer",
			in: `Te reenvío lo que nos pide el departamento jurídico.

Enviado desde mi iPhone

---------- Mensaje reenviado ---------
De: Marta <marta@acme.example>
Fecha: lun, 2 mar 2026 a las 10:00
Asunto: NDA
Para: Lucía <lucia@acme.example>

Necesitamos el NDA firmado.
`,
			want:      "Te reenvío lo que nos pide el departamento jurídico.",
			quoted:    "Necesitamos el NDA firmado",
			sig:       "Enviado desde mi iPhone",
			forwarded: true,
		},
		{
			name:   "banner precaución",
			in:     "PRECAUCIÓN: Este correo se originó fuera de la organización. No haga clic en enlaces.\n\n¿Tenéis integración con Salesforce?\n",
			want:   "¿Tenéis integración con Salesforce?",
			banner: "fuera de la organización",
		},
	})
}

func TestPrepareGerman(t *testing.T) {
	runCases(t, []prepCase{
		{
			name: "thunderbird/gmail german reply",
			in: `Hallo Herr Stone,

wir brauchen ein Angebot für 300 Lizenzen und eine Auftragsverarbeitungsvereinbarung.

Mit freundlichen Grüßen
Jonas Weber
Leiter Einkauf
Beispiel GmbH
Tel.: +49 30 1234567

Diese E-Mail enthält vertrauliche Informationen und ist ausschließlich für den Empfänger bestimmt. Wenn Sie nicht der richtige Adressat sind, informieren Sie bitte den Absender.

Am 02.03.2026 um 16:12 schrieb Bob Stone <bob@vendor.example>:
> Anbei MSA, Preisliste und SOC-2-Bericht.
`,
			want:   "Hallo Herr Stone,\n\nwir brauchen ein Angebot für 300 Lizenzen und eine Auftragsverarbeitungsvereinbarung.",
			quoted: "Anbei MSA|schrieb Bob Stone",
			sig:    "Mit freundlichen Grüßen|Leiter Einkauf|Beispiel GmbH",
			disc:   "vertrauliche Informationen",
		},
		{
			name: "outlook german header block",
			in: `Passt, bitte den Vertrag schicken.

Viele Grüße
Anna

Von: Bob Stone <bob@vendor.example>
Gesendet: Montag, 2. März 2026 16:12
An: Anna Berg <anna@beispiel.example>
Betreff: AW: Angebot

Rechtliche Prüfung abgeschlossen.
`,
			want:   "Passt, bitte den Vertrag schicken.",
			quoted: "Rechtliche Prüfung|Betreff: AW: Angebot",
			sig:    "Viele Grüße|Anna",
		},
		{
			name:   "von meinem iPhone gesendet and outlook reply header variant",
			in:     "Ja, Termin am Donnerstag passt.\n\nVon meinem iPhone gesendet\n\nBob Stone <bob@vendor.example> schrieb am 02.03.2026 um 16:12:\n\nKönnen wir die Vertragsbedingungen besprechen?\n",
			want:   "Ja, Termin am Donnerstag passt.",
			quoted: "Vertragsbedingungen",
			sig:    "Von meinem iPhone gesendet",
		},
		{
			name:      "weitergeleitete nachricht, pure forward",
			in:        "-------- Weitergeleitete Nachricht --------\nBetreff: Budget\nDatum: Mon, 2 Mar 2026 10:00:00 +0100\nVon: Chef <chef@beispiel.example>\nAn: Anna <anna@beispiel.example>\n\nBudget für Q2 ist freigegeben.\n",
			want:      "Budget für Q2 ist freigegeben.",
			quoted:    "Weitergeleitete Nachricht|Betreff: Budget",
			forwarded: true,
		},
	})
}

func TestPrepareFrench(t *testing.T) {
	runCases(t, []prepCase{
		{
			name: "gmail french reply with signature and disclaimer",
			in: `Bonjour Bob,

Pouvez-vous nous faire une offre pour 60 utilisateurs ?

Cordialement,
Claire Dubois
Directrice des achats
Exemple SAS
01 23 45 67 89

Ce message et ses pièces jointes sont confidentiels et destinés exclusivement à leurs destinataires. Si vous avez reçu ce message par erreur, merci de le détruire.

Le lun. 2 mars 2026 à 16:12, Bob Stone <bob@vendor.example> a écrit :
> Bonjour Claire, voici le contrat cadre et le rapport SOC 2.
`,
			want:   "Bonjour Bob,\n\nPouvez-vous nous faire une offre pour 60 utilisateurs ?",
			quoted: "contrat cadre|a écrit :",
			sig:    "Cordialement,|Directrice des achats",
			disc:   "sont confidentiels",
		},
		{
			name: "outlook french header block with space before colon",
			in: `D'accord pour la démo jeudi.

Bien à vous,
Paul

De : Bob Stone <bob@vendor.example>
Envoyé : lundi 2 mars 2026 16:12
À : Paul Martin <paul@exemple.example>
Objet : RE: Démo

Paul, notre juriste doit relire le contrat.
`,
			want:   "D'accord pour la démo jeudi.",
			quoted: "notre juriste|Objet : RE: Démo",
			sig:    "Bien à vous,|Paul",
		},
		{
			name:      "message transféré with a note",
			in:        "Pour info, voir ci-dessous.\n\n-------- Message transféré --------\nSujet : Tarifs\nDate : Mon, 2 Mar 2026 10:00:00 +0100\nDe : Bob <bob@vendor.example>\n\nNos tarifs et le DPA.\n",
			want:      "Pour info, voir ci-dessous.",
			quoted:    "Nos tarifs et le DPA",
			forwarded: true,
		},
	})
}

func TestPreparePortuguese(t *testing.T) {
	runCases(t, []prepCase{
		{
			name: "gmail portuguese reply",
			in: `Olá Bob,

Vocês têm desconto para 100 licenças? Precisamos fechar até sexta.

Atenciosamente,
João Silva
Gerente de Compras | Exemplo Ltda
+55 11 91234-5678

Esta mensagem é confidencial e destinada exclusivamente ao destinatário. Se você recebeu esta mensagem por engano, apague-a.

Em seg., 2 de mar. de 2026 às 16:12, Bob Stone <bob@vendor.example> escreveu:
> Olá João, segue o contrato (MSA) e o relatório SOC 2.
`,
			want:   "Olá Bob,\n\nVocês têm desconto para 100 licenças? Precisamos fechar até sexta.",
			quoted: "segue o contrato|escreveu:",
			sig:    "Atenciosamente,|Gerente de Compras",
			disc:   "Esta mensagem é confidencial",
		},
		{
			name: "outlook portuguese header block",
			in: `Pode seguir com a proposta.

Abraços,
Marina

De: Bob Stone <bob@vendor.example>
Enviada em: segunda-feira, 2 de março de 2026 16:12
Para: Marina Costa <marina@exemplo.example>
Assunto: RES: Proposta

Marina, o jurídico precisa revisar o contrato.
`,
			want:   "Pode seguir com a proposta.",
			quoted: "o jurídico precisa|Assunto: RES: Proposta",
			sig:    "Abraços,|Marina",
		},
		{
			name:      "mensagem encaminhada, pure forward",
			in:        "---------- Mensagem encaminhada ---------\nDe: Carla <carla@exemplo.example>\nData: seg., 2 de mar. de 2026 às 10:00\nAssunto: Orçamento\nPara: João <joao@exemplo.example>\n\nO orçamento foi aprovado.\n\nEnviado do meu iPhone\n",
			want:      "O orçamento foi aprovado.",
			quoted:    "Mensagem encaminhada|Assunto: Orçamento",
			sig:       "Enviado do meu iPhone",
			forwarded: true,
		},
	})
}

func TestPrepareItalian(t *testing.T) {
	runCases(t, []prepCase{
		{
			name: "gmail italian reply",
			in: `Buongiorno Bob,

potete mandarci un preventivo per 70 utenti? Serve anche il DPA.

Cordiali saluti,
Giulia Rossi
Responsabile Ufficio Acquisti
Esempio S.r.l.
Tel. 02 1234 5678

Questa e-mail è riservata e destinata esclusivamente al destinatario indicato. Se avete ricevuto questo messaggio per errore, cancellatelo.

Il giorno lun 2 mar 2026 alle ore 16:12 Bob Stone <bob@vendor.example> ha scritto:
> Buongiorno Giulia, in allegato MSA e report SOC 2.
`,
			want:   "Buongiorno Bob,\n\npotete mandarci un preventivo per 70 utenti? Serve anche il DPA.",
			quoted: "in allegato MSA|ha scritto:",
			sig:    "Cordiali saluti,|Responsabile Ufficio Acquisti",
			disc:   "Questa e-mail è riservata",
		},
		{
			name: "outlook italian header block",
			in: `Va bene, procediamo.

Distinti saluti
Marco Bianchi

Da: Bob Stone <bob@vendor.example>
Inviato: lunedì 2 marzo 2026 16:12
A: Marco Bianchi <marco@esempio.example>
Oggetto: R: Offerta

Marco, il nostro ufficio legale ha approvato.
`,
			want:   "Va bene, procediamo.",
			quoted: "ufficio legale|Oggetto: R: Offerta",
			sig:    "Distinti saluti|Marco Bianchi",
		},
		{
			name:      "messaggio inoltrato with note",
			in:        "Ti giro la richiesta del legale.\n\nInizio messaggio inoltrato:\n\nDa: Avv. Neri <neri@esempio.example>\nOggetto: Contratto\nData: 2 marzo 2026 10:00:00 CET\nA: Giulia <giulia@esempio.example>\n\nServe la clausola di riservatezza.\n",
			want:      "Ti giro la richiesta del legale.",
			quoted:    "clausola di riservatezza",
			forwarded: true,
		},
		{
			name: "inviato da iPhone",
			in:   "Confermo la call di domani.\n\nInviato da iPhone\n",
			want: "Confermo la call di domani.",
			sig:  "Inviato da iPhone",
		},
	})
}
