// Evaluates JSONPaths with Jayway JsonPath (Debian's libjsonpath-java), the
// library API Gateway uses, for tests/jsonpath_differential.rs. Reads
// cases "document<TAB>path" one per line from the file named by the first
// argument; prints one line per case: "OK <json>", "MISSING" (a definite
// path that selects nothing) or "ERROR" (an invalid path).
import com.jayway.jsonpath.Configuration;
import com.jayway.jsonpath.InvalidPathException;
import com.jayway.jsonpath.JsonPath;
import com.jayway.jsonpath.PathNotFoundException;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import net.minidev.json.JSONValue;

public class JsonPathOracle {
    public static void main(String[] args) throws Exception {
        List<String> lines = Files.readAllLines(new File(args[0]).toPath(), StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (String line : lines) {
            int tab = line.indexOf('\t');
            String document = line.substring(0, tab);
            String path = line.substring(tab + 1);
            try {
                Object parsed = Configuration.defaultConfiguration().jsonProvider().parse(document);
                Object result = JsonPath.read(parsed, path);
                out.append("OK ").append(JSONValue.toJSONString(result));
            } catch (PathNotFoundException e) {
                out.append("MISSING");
            } catch (InvalidPathException e) {
                out.append("ERROR");
            } catch (Exception e) {
                out.append("ERROR");
            }
            out.append("\n");
        }
        System.out.print(out);
    }
}
