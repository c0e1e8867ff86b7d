package pattern

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aurum-cdp/aurum/shared/model/fault"
)

// matchCase is one pattern/event pair and the result EventBridge gives.
type matchCase struct {
	name    string
	pattern string
	event   string
	want    bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("Parse(%s) error: %v", tc.pattern, err)
			}
			got, err := p.Match([]byte(tc.event))
			if err != nil {
				t.Fatalf("Match(%s) error: %v", tc.event, err)
			}
			if got != tc.want {
				t.Errorf("pattern %s\nMatch(%s) = %v; want %v", tc.pattern, tc.event, got, tc.want)
			}
		})
	}
}

// Events used by several documentation examples.
const (
	// From "Amazon EventBridge event patterns" (eb-event-patterns).
	ec2Terminated = `{
	  "version": "0",
	  "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
	  "detail-type": "EC2 Instance State-change Notification",
	  "source": "aws.ec2",
	  "account": "111122223333",
	  "time": "2017-12-22T18:43:48Z",
	  "region": "us-west-1",
	  "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
	  "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated"}
	}`
	// From "Matching null values and empty strings" (eb-event-patterns-null-values).
	autoscalingLaunch = `{
	  "version": "0",
	  "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
	  "detail-type": "EC2 Instance Launch Successful",
	  "source": "aws.autoscaling",
	  "account": "123456789012",
	  "time": "2015-11-11T21:31:47Z",
	  "region": "us-east-1",
	  "resources": [],
	  "detail": {"eventVersion": "", "responseElements": null}
	}`
	// The example event of the content-filtering examples (c-count, d-count,
	// x-limit, source-ip), as used throughout the comparison-operator pages.
	contentEvent = `{
	  "version": "0",
	  "id": "ddddd4-aaaa-7777-4444-345dd43cc333",
	  "detail-type": "EC2 Instance State-change Notification",
	  "source": "aws.ec2",
	  "account": "012345679012",
	  "time": "2017-10-02T16:24:49Z",
	  "region": "us-east-1",
	  "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
	  "detail": {
	    "c-count": 5,
	    "d-count": 3,
	    "x-limit": 301.8,
	    "source-ip": "10.0.0.33",
	    "instance-id": "i-000000aaaaaa00000",
	    "state": "running"
	  }
	}`
)

func TestMatchExactValues(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Amazon EventBridge event patterns" — the EC2 termination example.
		{"doc ec2 terminated", `{"source":["aws.ec2"],"detail-type":["EC2 Instance State-change Notification"],"detail":{"state":["terminated"]}}`, ec2Terminated, true},
		{"doc ec2 other state", `{"source":["aws.ec2"],"detail":{"state":["running"]}}`, ec2Terminated, false},
		// Doc: "Event pattern syntax" — matching on multiple field values.
		{"doc source ec2 or fargate", `{"source":["aws.ec2","aws.fargate"]}`, ec2Terminated, true},
		{"doc source neither", `{"source":["aws.s3","aws.fargate"]}`, ec2Terminated, false},
		// Doc: "Event pattern syntax" — the event must contain all fields of the pattern.
		{"missing field", `{"source":["aws.ec2"],"detail":{"missing":["x"]}}`, ec2Terminated, false},
		{"fields not in pattern are ignored", `{"detail":{"instance-id":["i-1234567890abcdef0"]}}`, ec2Terminated, true},
		// Doc: strings match character by character, without case folding.
		{"case sensitive", `{"source":["AWS.EC2"]}`, ec2Terminated, false},
		{"no trimming", `{"source":["aws.ec2 "]}`, ec2Terminated, false},
		// Doc: "Amazon EventBridge event patterns" — value matching (Macie: numbers, nested objects).
		{"doc macie risk", `{"source":["aws.macie"],"detail-type":["Macie Alert"],"detail":{"risk-score":[80],"trigger":{"risk":[8]}}}`,
			`{"source":"aws.macie","detail-type":"Macie Alert","detail":{"risk-score":80,"tags":["Custom_Alert","Insider"],"trigger":{"alert-type":"basic","risk":8}}}`, true},
		{"doc macie risk differs", `{"source":["aws.macie"],"detail":{"risk-score":[80],"trigger":{"risk":[9]}}}`,
			`{"source":"aws.macie","detail":{"risk-score":80,"trigger":{"risk":8}}}`, false},
		// Doc: "For numbers, EventBridge uses string representation. For example,
		// 300, 300.0, and 3.0e2 are not considered equal."
		{"number same text", `{"detail":{"n":[300]}}`, `{"detail":{"n":300}}`, true},
		{"doc number 300.0 differs", `{"detail":{"n":[300]}}`, `{"detail":{"n":300.0}}`, false},
		{"doc number 3.0e2 differs", `{"detail":{"n":[300]}}`, `{"detail":{"n":3.0e2}}`, false},
		{"number vs string", `{"detail":{"n":[300]}}`, `{"detail":{"n":"300"}}`, false},
		{"string vs number", `{"detail":{"n":["300"]}}`, `{"detail":{"n":300}}`, false},
		{"true", `{"detail":{"b":[true]}}`, `{"detail":{"b":true}}`, true},
		{"true vs false", `{"detail":{"b":[true]}}`, `{"detail":{"b":false}}`, false},
		{"true vs string", `{"detail":{"b":[true]}}`, `{"detail":{"b":"true"}}`, false},
		{"false", `{"detail":{"b":[false]}}`, `{"detail":{"b":false}}`, true},
		{"mixed value types", `{"detail":{"v":["x",1,true,null]}}`, `{"detail":{"v":1}}`, true},
		{"unicode string", `{"detail":{"city":["Zürich"]}}`, `{"detail":{"city":"Zürich"}}`, true},
		{"escaped string", `{"detail":{"s":["a\"b\\c"]}}`, `{"detail":{"s":"a\"b\\c"}}`, true},
	})
}

func TestMatchNullAndEmpty(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Matching null values and empty strings in Amazon EventBridge event patterns".
		{"doc empty string", `{"detail":{"eventVersion":[""]}}`, autoscalingLaunch, true},
		{"doc null", `{"detail":{"responseElements":[null]}}`, autoscalingLaunch, true},
		// Doc: "Null values and empty strings are not interchangeable".
		{"doc null does not match empty string", `{"detail":{"eventVersion":[null]}}`, autoscalingLaunch, false},
		{"doc empty string does not match null", `{"detail":{"responseElements":[""]}}`, autoscalingLaunch, false},
		// Doc: "Amazon EventBridge event patterns" — field matching example.
		{"doc field matching", `{"source":["aws.autoscaling"],"detail-type":["EC2 Instance Launch Successful"],"detail":{"responseElements":[null]}}`, autoscalingLaunch, true},
		{"null does not match missing", `{"detail":{"other":[null]}}`, autoscalingLaunch, false},
		{"empty string does not match missing", `{"detail":{"other":[""]}}`, autoscalingLaunch, false},
		{"empty event array has no values", `{"resources":[""]}`, autoscalingLaunch, false},
	})
}

func TestMatchArrays(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Arrays in Amazon EventBridge event patterns".
		{"doc resources intersection",
			`{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f","arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f","arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f"]}`,
			`{"resources":["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate","arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`,
			true},
		{"doc resources no intersection",
			`{"resources":["arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}`,
			`{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}`,
			false},
		{"any element of event array", `{"detail":{"tags":["Insider"]}}`, `{"detail":{"tags":["Custom_Alert","Insider"]}}`, true},
		{"nested arrays are flattened", `{"detail":{"m":[3]}}`, `{"detail":{"m":[[1,2],[3]]}}`, true},
		// Array consistency: fields inside objects of one array must come from the same element.
		{"objects in array single field", `{"employees":{"firstName":["Anna"]}}`,
			`{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}`, true},
		{"objects in array same element", `{"employees":{"firstName":["Anna"],"lastName":["Smith"]}}`,
			`{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}`, true},
		{"objects in array different elements", `{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}`,
			`{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}`, false},
		{"multi-level arrays", `{"employees":{"firstName":["Peter"]}}`,
			`{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}`, true},
		{"multi-level arrays different elements", `{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}`,
			`{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}`, false},
		{"field outside array combines with any element", `{"source":["s"],"items":{"sku":["B"]}}`,
			`{"source":"s","items":[{"sku":"A"},{"sku":"B"}]}`, true},
		{"nested array inside one element", `{"orders":{"id":["o2"],"lines":{"sku":["X"]}}}`,
			`{"orders":[{"id":"o1","lines":[{"sku":"X"}]},{"id":"o2","lines":[{"sku":"Y"},{"sku":"X"}]}]}`, true},
		{"nested array element belongs to other order", `{"orders":{"id":["o1"],"lines":{"sku":["Y"]}}}`,
			`{"orders":[{"id":"o1","lines":[{"sku":"X"}]},{"id":"o2","lines":[{"sku":"Y"}]}]}`, false},
	})
}

func TestMatchNestedAndDottedFields(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"nested object", `{"detail":{"a":{"b":{"c":["x"]}}}}`, `{"detail":{"a":{"b":{"c":"x"}}}}`, true},
		{"nested structure differs", `{"detail":{"a":{"b":["x"]}}}`, `{"detail":{"a":"x"}}`, false},
		{"pattern leaf where event has object", `{"detail":["x"]}`, `{"detail":{"a":"x"}}`, false},
		// Doc: "Event pattern syntax" — EventBridge joins field names with "."
		// when it compiles a pattern, so dotted keys and nesting are equivalent.
		{"doc dotted pattern key", `{"detail":{"state.status":["running"]}}`, `{"detail":{"state":{"status":"running"}}}`, true},
		{"doc dotted event key", `{"detail":{"state":{"status":["running"]}}}`, `{"detail":{"state.status":"running"}}`, true},
		// Doc: "Content filtering" — "if you include a key more than once the last reference will be the one used".
		{"doc duplicate key last wins", `{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}`, `{"detail":{"location":"eu-west"}}`, true},
		{"doc duplicate key last wins excludes", `{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}`, `{"detail":{"location":"us-east"}}`, false},
	})
}

func TestMatchPrefixSuffix(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Comparison operators" — prefix matching.
		{"doc prefix time", `{"time":[{"prefix":"2017-10-02"}]}`, `{"time":"2017-10-02T18:43:48Z"}`, true},
		{"doc prefix time other day", `{"time":[{"prefix":"2017-10-02"}]}`, `{"time":"2017-10-03T18:43:48Z"}`, false},
		{"doc prefix region", `{"Region":[{"prefix":"us-"}]}`, `{"Region":"us-east-1"}`, true},
		{"prefix is case sensitive", `{"Region":[{"prefix":"us-"}]}`, `{"Region":"US-east-1"}`, false},
		{"prefix only strings", `{"n":[{"prefix":"12"}]}`, `{"n":123}`, false},
		{"empty prefix matches strings", `{"s":[{"prefix":""}]}`, `{"s":""}`, true},
		// Doc: "Comparison operators" — prefix matching while ignoring case.
		{"doc prefix ignore case", `{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}`, `{"detail":{"service":"eventbridge"}}`, true},
		{"doc prefix ignore case upper", `{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}`, `{"detail":{"service":"EVENTBRIDGE"}}`, true},
		{"doc prefix ignore case other", `{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}`, `{"detail":{"service":"sqs"}}`, false},
		{"prefix ignore case accents differ", `{"s":[{"prefix":{"equals-ignore-case":"ÉCO"}}]}`, `{"s":"ecologie"}`, false},
		{"prefix ignore case non-ASCII folds", `{"s":[{"prefix":{"equals-ignore-case":"ÉCO"}}]}`, `{"s":"écologie"}`, true},
		// Doc: "Comparison operators" — suffix matching.
		{"doc suffix png", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.png"}`, true},
		{"doc suffix png case", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.PNG"}`, false},
		{"doc suffix other", `{"FileName":[{"suffix":".png"}]}`, `{"FileName":"image.jpg"}`, false},
		// Doc: "Comparison operators" — suffix matching while ignoring case.
		{"doc suffix ignore case", `{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}`, `{"detail":{"FileName":"IMAGE.PNG"}}`, true},
		{"doc suffix ignore case other", `{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}`, `{"detail":{"FileName":"image.gif"}}`, false},
		{"suffix only strings", `{"n":[{"suffix":"3"}]}`, `{"n":123}`, false},
	})
}

func TestMatchEqualsIgnoreCase(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Comparison operators" — equals-ignore-case matching.
		{"doc detail-type", `{"detail-type":[{"equals-ignore-case":"ec2 instance state-change notification"}]}`, ec2Terminated, true},
		{"doc name alice", `{"Name":[{"equals-ignore-case":"alice"}]}`, `{"Name":"Alice"}`, true},
		{"not a prefix", `{"Name":[{"equals-ignore-case":"alice"}]}`, `{"Name":"Alicia"}`, false},
		{"only strings", `{"b":[{"equals-ignore-case":"true"}]}`, `{"b":true}`, false},
	})
}

func TestMatchWildcard(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Comparison operators" — wildcard matching.
		{"doc event bus arn", `{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn":"arn:aws:events:us-east-1:123456789012:event-bus/default"}`, true},
		{"doc event bus arn other region", `{"EventBusArn":[{"wildcard":"arn:aws:events:us-east-1:*:event-bus/*"}]}`, `{"EventBusArn":"arn:aws:events:us-west-2:123456789012:event-bus/default"}`, false},
		{"doc simple service", `{"source":[{"wildcard":"Simple*Service"}]}`, `{"source":"SimpleQueueService"}`, true},
		{"star matches empty", `{"source":[{"wildcard":"Simple*Service"}]}`, `{"source":"SimpleService"}`, true},
		{"anchored at both ends", `{"source":[{"wildcard":"Simple*Service"}]}`, `{"source":"SimpleQueueServices"}`, false},
		{"lone star matches any string", `{"s":[{"wildcard":"*"}]}`, `{"s":""}`, true},
		{"star does not match numbers", `{"s":[{"wildcard":"*"}]}`, `{"s":5}`, false},
		{"no wildcard is exact", `{"s":[{"wildcard":"abc"}]}`, `{"s":"abc"}`, true},
		{"middle segments in order", `{"s":[{"wildcard":"*a*b*"}]}`, `{"s":"xbxa"}`, false},
		{"overlapping segments", `{"s":[{"wildcard":"ab*ba"}]}`, `{"s":"aba"}`, false},
		// Doc: "\*" is a literal star and "\\" a literal backslash.
		{"doc escaped star", `{"s":[{"wildcard":"a\\*b"}]}`, `{"s":"a*b"}`, true},
		{"doc escaped star is literal", `{"s":[{"wildcard":"a\\*b"}]}`, `{"s":"axb"}`, false},
		{"doc escaped backslash", `{"s":[{"wildcard":"a\\\\*"}]}`, `{"s":"a\\bc"}`, true},
		{"escaped star then wildcard", `{"s":[{"wildcard":"\\**"}]}`, `{"s":"*tail"}`, true},
		{"case sensitive", `{"s":[{"wildcard":"abc*"}]}`, `{"s":"ABCD"}`, false},
	})
}

func TestMatchAnythingBut(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Comparison operators" — anything-but matching.
		{"doc string excluded", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{"state":"initializing"}}`, false},
		{"doc string other", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, contentEvent, true},
		{"doc number excluded", `{"detail":{"x-limit":[{"anything-but":123}]}}`, `{"detail":{"x-limit":123}}`, false},
		{"doc number other", `{"detail":{"x-limit":[{"anything-but":123}]}}`, contentEvent, true},
		{"number excluded numerically", `{"detail":{"x-limit":[{"anything-but":123}]}}`, `{"detail":{"x-limit":123.0}}`, false},
		{"number vs string value", `{"detail":{"x-limit":[{"anything-but":123}]}}`, `{"detail":{"x-limit":"123"}}`, true},
		{"doc string list excluded", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, `{"detail":{"state":"overloaded"}}`, false},
		{"doc string list other", `{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, contentEvent, true},
		{"doc number list excluded", `{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"detail":{"x-limit":200}}`, false},
		{"doc number list other", `{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}`, contentEvent, true},
		{"missing field does not match", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{}}`, false},
		{"null is anything but a string", `{"detail":{"state":[{"anything-but":"initializing"}]}}`, `{"detail":{"state":null}}`, true},
		{"array matches if any element is not excluded", `{"detail":{"state":[{"anything-but":"stopped"}]}}`, `{"detail":{"state":["stopped","running"]}}`, true},
		{"array of only excluded values", `{"detail":{"state":[{"anything-but":"stopped"}]}}`, `{"detail":{"state":["stopped","stopped"]}}`, false},
		// Doc: anything-but with prefix.
		{"doc prefix excluded", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, `{"detail":{"state":"initializing"}}`, false},
		{"doc prefix other", `{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}`, contentEvent, true},
		{"doc region not us", `{"Region":[{"anything-but":{"prefix":"us-"}}]}`, `{"Region":"eu-west-1"}`, true},
		// Doc: anything-but with suffix.
		{"doc suffix excluded", `{"FileName":[{"anything-but":{"suffix":".png"}}]}`, `{"FileName":"a.png"}`, false},
		{"doc suffix other", `{"FileName":[{"anything-but":{"suffix":".png"}}]}`, `{"FileName":"a.txt"}`, true},
		// Doc: anything-but with equals-ignore-case.
		{"doc ignore case excluded", `{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}`, `{"state":"INITIALIZING"}`, false},
		{"doc ignore case other", `{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}`, `{"state":"running"}`, true},
		{"doc ignore case list", `{"detail":{"state":[{"anything-but":{"equals-ignore-case":["Stopped","OverLoaded"]}}]}}`, `{"detail":{"state":"overloaded"}}`, false},
		{"doc ignore case list other", `{"detail":{"state":[{"anything-but":{"equals-ignore-case":["Stopped","OverLoaded"]}}]}}`, `{"detail":{"state":"running"}}`, true},
		// Doc: anything-but with a wildcard.
		{"doc wildcard excluded", `{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"FilePath":"/usr/lib/libc.so"}`, false},
		{"doc wildcard other", `{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}`, `{"FilePath":"/usr/bin/env"}`, true},
		{"wildcard list", `{"FilePath":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}`, `{"FilePath":"/usr/bin/env"}`, false},
		{"wildcard non-string matches", `{"FilePath":[{"anything-but":{"wildcard":"*"}}]}`, `{"FilePath":42}`, true},
	})
}

func TestMatchNumeric(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Comparison operators" — numeric matching.
		{"doc all numeric fields", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}`, contentEvent, true},
		{"doc upper bound inclusive", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, `{"detail":{"c-count":5}}`, true},
		{"doc lower bound exclusive", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, `{"detail":{"c-count":0}}`, false},
		{"doc above range", `{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}`, `{"detail":{"c-count":6}}`, false},
		{"doc less than", `{"detail":{"d-count":[{"numeric":["<",10]}]}}`, `{"detail":{"d-count":10}}`, false},
		{"doc equals across notations", `{"detail":{"x-limit":[{"numeric":["=",3.018e2]}]}}`, `{"detail":{"x-limit":301.8}}`, true},
		{"doc price equals", `{"Price":[{"numeric":["=",100]}]}`, `{"Price":100.0}`, true},
		{"doc price range", `{"Price":[{"numeric":[">",10,"<=",20]}]}`, `{"Price":20}`, true},
		{"greater or equal", `{"n":[{"numeric":[">=",1.5]}]}`, `{"n":1.5}`, true},
		{"greater or equal below", `{"n":[{"numeric":[">=",1.5]}]}`, `{"n":1.4999999}`, false},
		{"less or equal", `{"n":[{"numeric":["<=",-2]}]}`, `{"n":-2}`, true},
		{"negative range", `{"n":[{"numeric":[">=",-10,"<",-5]}]}`, `{"n":-7.25}`, true},
		{"exponent in event", `{"n":[{"numeric":[">",1000]}]}`, `{"n":1.5e3}`, true},
		// Doc: six digits to the right of the decimal point.
		{"doc precision beyond six digits ignored", `{"n":[{"numeric":["=",3.018e2]}]}`, `{"n":301.8000001}`, true},
		{"doc precision six digits kept", `{"n":[{"numeric":["=",3.018e2]}]}`, `{"n":301.800001}`, false},
		// Doc: numeric matching works with values that are JSON numbers.
		{"string is not a number", `{"n":[{"numeric":[">",0]}]}`, `{"n":"5"}`, false},
		{"bool is not a number", `{"n":[{"numeric":[">",0]}]}`, `{"n":true}`, false},
		// Doc: limited to values between -5.0e9 and +5.0e9 inclusive.
		{"doc range limit inclusive", `{"n":[{"numeric":["<=",5e9]}]}`, `{"n":5000000000}`, true},
		{"doc beyond range never matches", `{"n":[{"numeric":[">",0]}]}`, `{"n":5000000001}`, false},
		{"array element in range", `{"n":[{"numeric":[">",10]}]}`, `{"n":[1,2,30]}`, true},
	})
}

func TestMatchCIDR(t *testing.T) {
	runMatchCases(t, []matchCase{
		// Doc: "Comparison operators" — IP address matching.
		{"doc ipv4 in range", `{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}`, `{"detail":{"sourceIPAddress":"10.0.0.255"}}`, true},
		{"doc ipv4 out of range", `{"detail":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}`, `{"detail":{"sourceIPAddress":"10.0.1.1"}}`, false},
		{"doc content event /8", `{"detail":{"source-ip":[{"cidr":"10.0.0.0/8"}]}}`, contentEvent, true},
		{"ipv6 in range", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:db8:85a3::8a2e:370:7334"}`, true},
		{"ipv6 out of range", `{"ip":[{"cidr":"2001:db8::/32"}]}`, `{"ip":"2001:db9::1"}`, false},
		{"not an address", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":"10.0.0"}`, false},
		{"number is not an address", `{"ip":[{"cidr":"10.0.0.0/8"}]}`, `{"ip":10}`, false},
	})
}

func TestMatchExists(t *testing.T) {
	const noState = `{"detail-type":"EC2 Instance State-change Notification","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341"],"detail":{"c-count":{"c1":100}}}`
	runMatchCases(t, []matchCase{
		// Doc: "Comparison operators" — exists matching.
		{"doc exists true", `{"detail":{"state":[{"exists":true}]}}`,
			`{"version":"0","id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2015-11-11T21:29:54Z","region":"us-east-1","resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"detail":{"instance-id":"i-abcd1111","state":"pending"}}`, true},
		{"doc exists true missing", `{"detail":{"state":[{"exists":true}]}}`, noState, false},
		{"doc exists false missing", `{"detail":{"c-count":[{"exists":false}]}}`, `{"detail":{"state":["initializing","running"]}}`, true},
		// Doc: exists only works on leaf nodes, so an object value counts as absent.
		{"doc exists false not a leaf", `{"detail":{"c-count":[{"exists":false}]}}`, noState, true},
		{"exists true not a leaf", `{"detail":{"c-count":[{"exists":true}]}}`, noState, false},
		{"exists false present", `{"detail":{"c-count":[{"exists":false}]}}`, contentEvent, false},
		{"exists true null", `{"detail":{"v":[{"exists":true}]}}`, `{"detail":{"v":null}}`, true},
		{"exists true empty string", `{"detail":{"v":[{"exists":true}]}}`, `{"detail":{"v":""}}`, true},
		{"exists true empty array", `{"detail":{"v":[{"exists":true}]}}`, `{"detail":{"v":[]}}`, false},
		{"exists false empty array", `{"detail":{"v":[{"exists":false}]}}`, `{"detail":{"v":[]}}`, true},
		{"exists false parent missing", `{"detail":{"a":{"b":[{"exists":false}]}}}`, `{"source":"x"}`, true},
		{"exists false or value", `{"detail":{"v":[{"exists":false},"x"]}}`, `{"detail":{"v":"x"}}`, true},
		{"exists false or value other", `{"detail":{"v":[{"exists":false},"x"]}}`, `{"detail":{"v":"y"}}`, false},
	})
}

func TestMatchOr(t *testing.T) {
	const cw = `{"source":"aws.cloudwatch","metricName":"Other","namespace":"AWS/EC2","detail":{"source":"x","detail-type":"CloudWatch Alarm State Change"}}`
	runMatchCases(t, []matchCase{
		// Doc: "Comparison operators" — $or matching.
		{"doc or numeric any", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",3.018e2]}]}]}}`,
			`{"detail":{"c-count":50,"d-count":3}}`, true},
		{"doc or numeric none", `{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]},{"x-limit":[{"numeric":["=",3.018e2]}]}]}}`,
			`{"detail":{"c-count":50,"d-count":30,"x-limit":1}}`, false},
		{"or with and outside", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}`, cw, true},
		{"or with and outside fails", `{"source":["aws.s3"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}`, cw, false},
		{"parallel or", `{"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}],"detail":{"$or":[{"source":["aws.cloudwatch"]},{"detail-type":["CloudWatch Alarm State Change"]}]}}`, cw, true},
		{"parallel or second fails", `{"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}],"detail":{"$or":[{"source":["aws.cloudwatch"]},{"detail-type":["Other"]}]}}`, cw, false},
		{"or with and inside", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"]},{"scope":["Service"]}]}`,
			`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2"}`, true},
		{"or with and inside partial", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"]},{"scope":["Service"]}]}`,
			`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/ES"}`, false},
		{"nested or", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]},{"scope":["Service"]}]}`,
			`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2","spaceId":1000}`, true},
		{"nested or inner fails", `{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]},{"scope":["Service"]}]}`,
			`{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2","spaceId":1001}`, false},
		{"or with exists false", `{"$or":[{"a":[{"exists":false}]},{"a":["x"]}]}`, `{"b":1}`, true},
	})
}

func TestMatchComplexExample(t *testing.T) {
	// Doc: "Comparison operators" — complex example with multiple matching.
	const pattern = `{
	  "time": [ { "prefix": "2017-10-02" } ],
	  "detail": {
	    "state": [ { "anything-but": "initializing" } ],
	    "c-count": [ { "numeric": [ ">", 0, "<=", 5 ] } ],
	    "d-count": [ { "numeric": [ "<", 10 ] } ],
	    "x-limit": [ { "anything-but": [ 100, 200, 300 ] } ],
	    "source-ip": [ { "cidr": "10.0.0.0/8" } ]
	  }
	}`
	runMatchCases(t, []matchCase{
		{"doc complex matches", pattern, contentEvent, true},
		{"doc complex state excluded", pattern, strings.Replace(contentEvent, `"running"`, `"initializing"`, 1), false},
		{"doc complex other day", pattern, strings.Replace(contentEvent, "2017-10-02T", "2017-10-03T", 1), false},
		{"doc complex ip outside", pattern, strings.Replace(contentEvent, "10.0.0.33", "192.168.0.1", 1), false},
	})
}

func TestParsePatternErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		wantMsg string
	}{
		{"not json", `{"source":`, "not valid JSON"},
		{"trailing data", `{"source":["a"]} x`, "unexpected data"},
		{"array", `[{"source":["a"]}]`, "must be a JSON object"},
		{"string", `"source"`, "must be a JSON object"},
		{"empty object", `{}`, "empty objects are not allowed"},
		{"empty nested object", `{"detail":{}}`, "detail: empty objects are not allowed"},
		{"empty array", `{"source":[]}`, "source: empty arrays are not allowed"},
		{"string value", `{"source":"aws.ec2"}`, "source: value must be an object or an array"},
		{"number value", `{"detail":{"n":5}}`, "detail.n: value must be an object or an array"},
		{"nested array", `{"source":[["a"]]}`, "match values must be"},
		{"unknown operator", `{"source":[{"contains":"a"}]}`, `unknown operator "contains"`},
		{"two keys", `{"source":[{"prefix":"a","suffix":"b"}]}`, "only one key allowed"},
		{"empty operator", `{"source":[{}]}`, "empty operator object"},
		{"prefix number", `{"source":[{"prefix":5}]}`, "prefix must be a string"},
		{"prefix unknown option", `{"source":[{"prefix":{"wildcard":"a*"}}]}`, "prefix must be a string"},
		{"suffix null", `{"source":[{"suffix":null}]}`, "suffix must be a string"},
		{"equals-ignore-case list", `{"source":[{"equals-ignore-case":["a"]}]}`, "equals-ignore-case must be a string"},
		{"wildcard consecutive", `{"s":[{"wildcard":"a**b"}]}`, "consecutive wildcard"},
		{"wildcard bad escape", `{"s":[{"wildcard":"a\\b"}]}`, "invalid escape"},
		{"wildcard trailing backslash", `{"s":[{"wildcard":"a\\"}]}`, "trailing backslash"},
		{"wildcard number", `{"s":[{"wildcard":1}]}`, "wildcard must be a string"},
		{"exists string", `{"s":[{"exists":"true"}]}`, "exists must be true or false"},
		{"cidr invalid", `{"ip":[{"cidr":"10.0.0.0/33"}]}`, "not a valid CIDR"},
		{"cidr without mask", `{"ip":[{"cidr":"10.0.0.1"}]}`, "not a valid CIDR"},
		{"cidr number", `{"ip":[{"cidr":10}]}`, "cidr must be a string"},
		{"numeric object", `{"n":[{"numeric":{">":1}}]}`, "numeric must be an array"},
		{"numeric empty", `{"n":[{"numeric":[]}]}`, "empty expression"},
		{"numeric unknown op", `{"n":[{"numeric":["!=",1]}]}`, `unknown operator "!="`},
		{"numeric op not string", `{"n":[{"numeric":[1,">"]}]}`, "must be an operator string"},
		{"numeric missing value", `{"n":[{"numeric":[">"]}]}`, "needs a number"},
		{"numeric string value", `{"n":[{"numeric":[">","1"]}]}`, "must be a number"},
		{"numeric equals extra", `{"n":[{"numeric":["=",1,"<",2]}]}`, "too many elements"},
		{"numeric less then more", `{"n":[{"numeric":["<",1,">",0]}]}`, "too many elements"},
		{"numeric bad second op", `{"n":[{"numeric":[">",1,">",2]}]}`, `only "<" or "<=" may follow`},
		{"numeric bounds reversed", `{"n":[{"numeric":[">",5,"<",1]}]}`, "lower bound must be less than upper bound"},
		{"numeric bounds equal", `{"n":[{"numeric":[">=",5,"<=",5]}]}`, "lower bound must be less than upper bound"},
		{"numeric out of range", `{"n":[{"numeric":[">",5.1e9]}]}`, "outside the supported range"},
		{"numeric five elements", `{"n":[{"numeric":[">",1,"<",2,3]}]}`, "too many elements"},
		{"anything-but mixed list", `{"s":[{"anything-but":["a",1]}]}`, "only strings or only numbers"},
		{"anything-but empty list", `{"s":[{"anything-but":[]}]}`, "empty list"},
		{"anything-but bool", `{"s":[{"anything-but":true}]}`, "anything-but must be"},
		{"anything-but null", `{"s":[{"anything-but":null}]}`, "anything-but must be"},
		{"anything-but list with null", `{"s":[{"anything-but":["a",null]}]}`, "list values must be strings or numbers"},
		{"anything-but empty prefix", `{"s":[{"anything-but":{"prefix":""}}]}`, "prefix must not be empty"},
		{"anything-but prefix list", `{"s":[{"anything-but":{"prefix":["a","b"]}}]}`, "prefix must be a string"},
		{"anything-but numeric", `{"s":[{"anything-but":{"numeric":[">",1]}}]}`, `unsupported operator "numeric"`},
		{"anything-but two keys", `{"s":[{"anything-but":{"prefix":"a","suffix":"b"}}]}`, "only one key allowed"},
		{"anything-but number out of range", `{"s":[{"anything-but":6e9}]}`, "outside the supported range"},
		{"anything-but bad wildcard", `{"s":[{"anything-but":{"wildcard":"**"}}]}`, "consecutive wildcard"},
		{"anything-but empty ignore-case list", `{"s":[{"anything-but":{"equals-ignore-case":[]}}]}`, "list is empty"},
		{"or not array", `{"$or":{"a":["x"]}}`, "$or must be an array"},
		{"or one object", `{"$or":[{"a":["x"]}]}`, "at least 2 objects"},
		{"or with array element", `{"$or":[{"a":["x"]},["b"]]}`, "may only contain objects"},
		{"or reserved field name", `{"$or":[{"numeric":[123]},{"prefix":["abc"]}]}`, "cannot be a field name inside $or"},
		{"or reserved nested", `{"$or":[{"a":{"exists":[true]}},{"b":["x"]}]}`, "cannot be a field name inside $or"},
		{"or empty alternative", `{"$or":[{},{"a":["x"]}]}`, "empty objects are not allowed"},
		{"too deep", strings.Repeat(`{"a":`, 70) + `["x"]` + strings.Repeat(`}`, 70), "nested deeper"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.pattern))
			if err == nil {
				t.Fatalf("Parse(%s) = %v, nil; want error containing %q", tc.pattern, p, tc.wantMsg)
			}
			if !errors.Is(err, fault.ErrInvalid) {
				t.Errorf("Parse(%s) error = %v; want it to wrap fault.ErrInvalid", tc.pattern, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Parse(%s) error = %q; want it to contain %q", tc.pattern, err, tc.wantMsg)
			}
		})
	}
}

func TestParsePatternReservedNamesOutsideOr(t *testing.T) {
	// Operator names are ordinary field names outside $or.
	runMatchCases(t, []matchCase{
		{"prefix as field name", `{"prefix":["a"]}`, `{"prefix":"a"}`, true},
	})
}

func TestOrExpansionLimit(t *testing.T) {
	// 11 parallel $or of 2 alternatives expand to 2^11 = 2048 combinations.
	var b strings.Builder
	b.WriteString("{")
	for i := range 11 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"f` + string(rune('a'+i)) + `":{"$or":[{"x":["1"]},{"y":["2"]}]}`)
	}
	b.WriteString("}")
	_, err := Parse([]byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "combinations") {
		t.Errorf("Parse(2^11 $or combinations) error = %v; want a combinations limit error", err)
	}
}

func TestMatchInvalidEvent(t *testing.T) {
	p, err := Parse([]byte(`{"source":["a"]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []string{``, `[]`, `"a"`, `{"source":`, `{"source":"a"} {}`, `{"source":"a"}}`} {
		if got, err := p.Match([]byte(ev)); err == nil || !errors.Is(err, fault.ErrInvalid) {
			t.Errorf("Match(%q) = %v, %v; want an error wrapping fault.ErrInvalid", ev, got, err)
		}
	}
}

func TestMatchValue(t *testing.T) {
	p, err := Parse([]byte(`{"detail":{"n":[{"numeric":[">",1]}],"s":["x"],"b":[true],"z":[null],"l":["y"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	ev := map[string]any{"detail": map[string]any{"n": 2.5, "s": "x", "b": true, "z": nil, "l": []any{"q", "y"}}}
	if got, err := p.MatchValue(ev); err != nil || !got {
		t.Errorf("MatchValue(%v) = %v, %v; want true, nil", ev, got, err)
	}
	ev["detail"].(map[string]any)["n"] = 1
	if got, err := p.MatchValue(ev); err != nil || got {
		t.Errorf("MatchValue(n=1) = %v, %v; want false, nil", got, err)
	}
	// A float64 compares by its shortest decimal form: 300.0 is "300".
	q, err := Parse([]byte(`{"n":[300]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := q.MatchValue(map[string]any{"n": 300.0}); err != nil || !got {
		t.Errorf("MatchValue(n=300.0 float64) = %v, %v; want true, nil", got, err)
	}
}

func TestPatternString(t *testing.T) {
	src := `{"source": ["aurum"]}`
	p, err := Parse([]byte("  " + src + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != src {
		t.Errorf("String() = %q; want %q", p.String(), src)
	}
}

func TestPatternJSONRoundTrip(t *testing.T) {
	var cfg struct {
		Pattern *Pattern `json:"pattern"`
	}
	if err := json.Unmarshal([]byte(`{"pattern":{"detail-type":["SegmentEntered"]}}`), &cfg); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	ok, err := cfg.Pattern.Match([]byte(`{"detail-type":"SegmentEntered"}`))
	if err != nil || !ok {
		t.Errorf("unmarshalled pattern Match = %v, %v; want true, nil", ok, err)
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if want := `{"pattern":{"detail-type":["SegmentEntered"]}}`; string(out) != want {
		t.Errorf("Marshal = %s; want %s", out, want)
	}
	if err := json.Unmarshal([]byte(`{"pattern":{"detail-type":"x"}}`), &cfg); !errors.Is(err, fault.ErrInvalid) {
		t.Errorf("Unmarshal(invalid pattern) = %v; want ErrInvalid", err)
	}
}
