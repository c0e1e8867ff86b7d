package synth

// country holds the name lists and conventions of one country. The lists
// are common given names and surnames, combined at random: the people are
// fictional.
type country struct {
	code    string
	weight  int
	male    []string
	female  []string
	last    []string
	forms   []string // ways a CRM writes the country
	locale  string
	tzHours []int // UTC offsets seen in web-shop timestamps
	// providers are consumer e-mail domains, most common first.
	providers []string
	currency  string
	stores    []string
}

var countries = []country{
	{
		code: "GB", weight: 30, locale: "en-GB", tzHours: []int{0, 1}, currency: "GBP",
		male: []string{"Oliver", "George", "Harry", "Jack", "Jacob", "Noah", "Charlie", "Thomas",
			"Oscar", "William", "James", "Henry", "Leo", "Alfie", "Joshua", "Freddie", "Archie",
			"Ethan", "Isaac", "Alexander", "Joseph", "Edward", "Samuel", "Max", "Daniel", "Arthur",
			"Lucas", "Mohammed", "Benjamin", "Theo", "Matthew", "David", "Richard", "Michael",
			"Christopher", "Andrew", "Robert", "Stephen", "Paul", "Mark", "Peter", "Anthony"},
		female: []string{"Olivia", "Amelia", "Isla", "Ava", "Emily", "Isabella", "Mia", "Poppy",
			"Ella", "Lily", "Jessica", "Sophie", "Grace", "Charlotte", "Evie", "Ruby", "Chloe",
			"Freya", "Alice", "Florence", "Hannah", "Lucy", "Elizabeth", "Margaret", "Sarah",
			"Rebecca", "Victoria", "Emma", "Katherine", "Rachel", "Laura", "Amy", "Helen", "Claire",
			"Siobhan", "Priya", "Abigail", "Harriet", "Eleanor", "Zoe"},
		last: []string{"Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
			"Thomas", "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White",
			"Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson",
			"Wood", "Turner", "Martin", "Cooper", "Hill", "Ward", "Morris", "Moore", "Clark", "Lee",
			"King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott", "Phillips", "Watson",
			"Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook",
			"Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "O'Brien",
			"O'Connor", "Fletcher", "Whitfield", "Foster", "Khan", "Begum", "Ali", "MacDonald",
			"McKenzie"},
		forms:     []string{"United Kingdom", "UK", "GB", "England", "united kingdom", "Great Britain", "Scotland"},
		providers: []string{"gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "icloud.com", "sky.com"},
		stores:    []string{"London Covent Garden", "Manchester Arndale"},
	},
	{
		code: "FR", weight: 20, locale: "fr-FR", tzHours: []int{1, 2}, currency: "EUR",
		male: []string{"Jean", "Pierre", "Michel", "André", "Philippe", "Alain", "Nicolas", "Julien",
			"Thomas", "Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Raphaël", "Théo", "Antoine",
			"Maxime", "Alexandre", "Quentin", "Baptiste", "Mathieu", "Sébastien", "Christophe",
			"Frédéric", "Laurent", "Stéphane", "Olivier", "Éric", "François", "Jérôme", "Guillaume",
			"Romain", "Benoît", "Clément", "Valentin", "Jean-Pierre", "Jean-Baptiste", "Loïc", "Noé"},
		female: []string{"Marie", "Camille", "Léa", "Manon", "Chloé", "Emma", "Inès", "Jade", "Louise",
			"Anaïs", "Élodie", "Sarah", "Julie", "Claire", "Nathalie", "Isabelle", "Sophie", "Céline",
			"Sandrine", "Stéphanie", "Aurélie", "Mathilde", "Pauline", "Margaux", "Clémence",
			"Océane", "Lucie", "Juliette", "Agathe", "Hélène", "Françoise", "Catherine", "Véronique",
			"Cécile", "Amélie", "Noémie", "Maëlle", "Zoë", "Anne-Sophie", "Marie-Claire"},
		last: []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
			"Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand",
			"Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont",
			"Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
			"Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
			"Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
			"Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier",
			"Benali", "Marchand", "Le Gall", "Lévêque"},
		forms:     []string{"France", "FR", "france", "FRA", "République française"},
		providers: []string{"gmail.com", "orange.fr", "free.fr", "hotmail.fr", "laposte.net", "sfr.fr", "wanadoo.fr"},
		stores:    []string{"Paris Le Marais", "Lyon Part-Dieu"},
	},
	{
		code: "DE", weight: 20, locale: "de-DE", tzHours: []int{1, 2}, currency: "EUR",
		male: []string{"Hans", "Peter", "Klaus", "Wolfgang", "Jürgen", "Dieter", "Michael", "Thomas",
			"Andreas", "Stefan", "Frank", "Markus", "Christian", "Alexander", "Sebastian", "Tobias",
			"Florian", "Lukas", "Jonas", "Felix", "Leon", "Paul", "Maximilian", "Ben", "Finn", "Noah",
			"Elias", "Jan", "Tim", "Niklas", "Matthias", "Uwe", "Jörg", "Günter", "Bernd", "Ralf",
			"Sven", "Kai", "Moritz", "Johannes"},
		female: []string{"Anna", "Maria", "Ursula", "Monika", "Petra", "Sabine", "Claudia", "Susanne",
			"Andrea", "Birgit", "Katharina", "Julia", "Laura", "Lena", "Lea", "Sarah", "Hannah",
			"Sophie", "Marie", "Emilia", "Mia", "Leonie", "Johanna", "Lisa", "Jana", "Stefanie",
			"Nicole", "Christina", "Melanie", "Anja", "Heike", "Gisela", "Elisabeth", "Jutta",
			"Renate", "Jessica", "Franziska", "Miriam", "Charlotte", "Greta"},
		last: []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
			"Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
			"Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange",
			"Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid", "Schulze", "Maier",
			"Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters",
			"Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich",
			"Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann",
			"Franke", "Albrecht", "Yılmaz", "Öztürk"},
		forms:     []string{"Deutschland", "Germany", "DE", "GER", "germany", "Bundesrepublik Deutschland"},
		providers: []string{"web.de", "gmx.de", "gmail.com", "t-online.de", "gmx.net", "freenet.de", "posteo.de"},
		stores:    []string{"Berlin Mitte", "München Marienplatz", "Hamburg Jungfernstieg", "Köln Schildergasse"},
	},
	{
		code: "US", weight: 20, locale: "en-US", tzHours: []int{-5, -4, -8, -7, -6}, currency: "USD",
		male: []string{"James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph",
			"Thomas", "Christopher", "Charles", "Daniel", "Matthew", "Anthony", "Mark", "Donald",
			"Steven", "Andrew", "Paul", "Joshua", "Kenneth", "Kevin", "Brian", "George", "Timothy",
			"Ronald", "Jason", "Edward", "Jeffrey", "Ryan", "Jacob", "Gary", "Nicholas", "Eric",
			"Jonathan", "Stephen", "Larry", "Justin", "Scott", "Brandon", "Tyler", "Carlos", "Luis"},
		female: []string{"Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan",
			"Jessica", "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Sandra", "Margaret", "Ashley",
			"Kimberly", "Emily", "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Deborah",
			"Stephanie", "Dorothy", "Rebecca", "Sharon", "Laura", "Cynthia", "Amy", "Kathleen",
			"Angela", "Shirley", "Brenda", "Emma", "Olivia", "Megan", "Madison", "Abigail", "Maria",
			"Jasmine"},
		last: []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
			"Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas",
			"Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris",
			"Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
			"Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
			"Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kim", "O'Neill",
			"Sullivan", "Kowalski", "Washington", "Cohen", "Murphy", "Patel", "Chen", "Wong"},
		forms:     []string{"United States", "USA", "US", "U.S.A.", "United States of America", "usa"},
		providers: []string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com", "comcast.net"},
		stores:    []string{"London Covent Garden", "Berlin Mitte"},
	},
	{
		code: "ES", weight: 10, locale: "es-ES", tzHours: []int{1, 2}, currency: "EUR",
		male: []string{"Antonio", "José", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel",
			"José Luis", "Carlos", "Jesús", "Alejandro", "Miguel", "Rafael", "Pablo", "Pedro", "Ángel",
			"Sergio", "Fernando", "Luis", "Jorge", "Alberto", "Álvaro", "Diego", "Adrián", "Raúl",
			"Enrique", "Ramón", "Vicente", "Ignacio", "Iván", "Rubén", "Óscar", "Andrés", "Joaquín",
			"Hugo", "Mario", "Marcos", "Guillermo", "Gonzalo"},
		female: []string{"María", "Carmen", "Ana", "Isabel", "Laura", "Cristina", "Marta", "Lucía",
			"Pilar", "Dolores", "Elena", "Paula", "Sara", "Raquel", "Rosa", "Concepción", "Manuela",
			"Mercedes", "Rosario", "Sofía", "Beatriz", "Nuria", "Silvia", "Julia", "Irene", "Patricia",
			"Alba", "Andrea", "Claudia", "Teresa", "Montserrat", "Inmaculada", "Lorena", "Noelia",
			"Alicia", "Natalia", "Rocío", "Marina", "Ainhoa", "María José"},
		last: []string{"García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez",
			"Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz",
			"Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez",
			"Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega",
			"Delgado", "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina",
			"Garrido", "Cortés", "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto", "Méndez",
			"Cruz", "Calvo", "Gallego", "Vidal", "León", "Herrera", "Márquez", "Peña", "Flores"},
		forms:     []string{"España", "Spain", "ES", "ESP", "spain", "Espana"},
		providers: []string{"gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es", "movistar.es"},
		stores:    []string{"Madrid Salamanca", "Barcelona Passeig de Gràcia"},
	},
}

// nicknames maps given names to the short forms people also go by.
var nicknames = map[string][]string{
	"William": {"Bill", "Will"}, "Robert": {"Bob", "Rob"}, "Elizabeth": {"Liz", "Beth"},
	"Katherine": {"Kate", "Katie"}, "Margaret": {"Maggie", "Peggy"}, "James": {"Jim", "Jamie"},
	"Michael": {"Mike", "Micha"}, "Christopher": {"Chris"}, "Matthew": {"Matt"},
	"Daniel": {"Dan", "Danny"}, "Samuel": {"Sam"}, "Edward": {"Ed", "Ted"}, "Thomas": {"Tom"},
	"Alexander": {"Alex"}, "Benjamin": {"Ben"}, "Jennifer": {"Jen", "Jenny"},
	"Jessica": {"Jess"}, "Rebecca": {"Becky"}, "Nicholas": {"Nick"}, "Joseph": {"Joe"},
	"Anthony": {"Tony"}, "Richard": {"Rick", "Dick"}, "Charles": {"Charlie"},
	"Jonathan": {"Jon"}, "Victoria": {"Vicky"}, "Abigail": {"Abby"}, "Patricia": {"Pat", "Trish"},
	"Susan": {"Sue"}, "Deborah": {"Debbie"}, "Kimberly": {"Kim"}, "Timothy": {"Tim"},
	"Kenneth": {"Ken"}, "Steven": {"Steve"}, "Stephen": {"Steve"}, "Andrew": {"Andy"},
	"Jeffrey": {"Jeff"}, "Ronald": {"Ron"}, "Donald": {"Don"}, "Barbara": {"Barb"},
	"Kathleen": {"Kathy"}, "Cynthia": {"Cindy"}, "Amanda": {"Mandy"}, "Madison": {"Maddie"},
	"Eleanor": {"Ellie"}, "Harriet": {"Hattie"}, "Frederick": {"Fred"}, "Isabella": {"Bella"},
	"Nicolas": {"Nico"}, "Alexandre": {"Alex"}, "Christophe": {"Chris"}, "Frédéric": {"Fred"},
	"Stéphanie": {"Steph"}, "Catherine": {"Cathy"}, "Jean-Baptiste": {"JB"},
	"Jean-Pierre": {"JP"}, "Mathilde": {"Mathou"}, "Guillaume": {"Guigui"},
	"Johannes": {"Hannes"}, "Maximilian": {"Max"}, "Katharina": {"Kathi", "Katja"},
	"Elisabeth": {"Lisa", "Elli"}, "Christian": {"Chris"}, "Andreas": {"Andi"},
	"Wolfgang": {"Wolfi"}, "Stefanie": {"Steffi"}, "Franziska": {"Franzi"}, "Matthias": {"Matze"},
	"Francisco": {"Paco", "Curro"}, "José": {"Pepe"}, "Manuel": {"Manolo"}, "Dolores": {"Lola"},
	"Concepción": {"Concha"}, "Ignacio": {"Nacho"}, "Alejandro": {"Álex"},
	"Enrique": {"Quique"}, "Rosario": {"Charo"}, "Mercedes": {"Merche"}, "Guillermo": {"Guille"},
	"José Luis": {"Pepe Luis"}, "María José": {"Majo"}, "Montserrat": {"Montse"},
	"Inmaculada": {"Inma"},
}

// companies name the employers of work e-mail addresses.
var companies = []string{"northwind", "contoso", "fabrikam", "initech", "globex", "umbrella",
	"hooli", "vandelay", "acme", "stark", "wayne", "tyrell", "cyberdyne", "soylent", "wonka"}

// domainTypos are misspelt domains people type.
var domainTypos = map[string]string{
	"gmail.com": "gmial.com", "hotmail.com": "hotmial.com", "yahoo.com": "yaho.com",
	"outlook.com": "outlok.com", "web.de": "wbe.de", "gmx.de": "gmx.d", "orange.fr": "ornage.fr",
	"hotmail.fr": "hotmail.ft", "icloud.com": "icoud.com", "yahoo.es": "yahoo.e",
}

// placeholderEmails are what people and clerks type when they won't give
// an address; many strangers share them.
var placeholderEmails = []string{"test@test.com", "noreply@example.com", "none@none.com",
	"a@a.com", "no-reply@shop.example", "Test@Test.com"}

// placeholderPhones are typed by tills and clerks when the customer gives
// no number.
var placeholderPhones = []string{"0000000000", "00000000000", "1234567890", "9999999999"}

var products = [...]struct{ id, name string }{
	{"SKU-1001", "Merino Scarf"}, {"SKU-1002", "Leather Wallet"}, {"SKU-1003", "Canvas Tote"},
	{"SKU-1004", "Wool Beanie"}, {"SKU-1005", "Rain Jacket"}, {"SKU-1006", "Linen Shirt"},
	{"SKU-1007", "Denim Jacket"}, {"SKU-1008", "Chelsea Boots"}, {"SKU-1009", "Silk Tie"},
	{"SKU-1010", "Cashmere Jumper"},
}

var pages = [...]struct{ name, path string }{
	{"Home", "/"}, {"Scarves", "/c/scarves"}, {"Bags", "/c/bags"}, {"Sale", "/sale"},
	{"About", "/about"}, {"Jackets", "/c/jackets"}, {"Shoes", "/c/shoes"}, {"Cart", "/cart"},
}

var newsletterStatuses = []string{"subscribed", "subscribed", "subscribed", "subscribed",
	"subscribed", "unsubscribed", "cleaned", "pending", "Subscribed", "SUBSCRIBED"}

var optInForms = [...][]string{
	{"yes", "Y", "1", "true", "Yes", "TRUE"}, // true
	{"no", "N", "0", "false", "No"},          // false
}
