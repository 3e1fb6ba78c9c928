// Renders templates with Apache Velocity 1.7 (Debian's `velocity` package),
// the engine AWS API Gateway's mapping templates run on, for
// tests/vtl_differential.rs. Reads cases separated by a line "=====" from
// the file named by the first argument; prints each result after a line
// "<<<N>>>", or "<<<N>>>ERROR" when Velocity fails. Every case gets a fresh
// context with the same $context and $stageVariables the Rust side binds.
import java.io.File;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;

public class VelocityOracle {
    public static void main(String[] args) throws Exception {
        VelocityEngine engine = new VelocityEngine();
        engine.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
        engine.init();
        String all = new String(Files.readAllBytes(new File(args[0]).toPath()), StandardCharsets.UTF_8);
        String[] cases = all.split("\n=====\n", -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < cases.length; i++) {
            VelocityContext context = new VelocityContext();
            Map<String, Object> stage = new LinkedHashMap<>();
            stage.put("name", "Ada");
            stage.put("env", "dev");
            stage.put("count", "5");
            context.put("stageVariables", stage);
            Map<String, Object> identity = new LinkedHashMap<>();
            identity.put("sourceIp", "10.0.0.1");
            identity.put("caller", "");
            Map<String, Object> ctx = new LinkedHashMap<>();
            ctx.put("requestId", "req-1");
            ctx.put("stage", "dev");
            ctx.put("count", 3);
            ctx.put("ratio", 2.5);
            ctx.put("flag", true);
            ctx.put("identity", identity);
            ctx.put("tags", new ArrayList<Object>(Arrays.asList("a", "b", "c")));
            context.put("context", ctx);
            StringWriter writer = new StringWriter();
            out.append("<<<").append(i).append(">>>");
            try {
                engine.evaluate(context, writer, "case" + i, cases[i]);
                out.append("\n").append(writer.toString());
            } catch (Exception e) {
                out.append("ERROR");
            }
            out.append("\n");
        }
        System.out.print(out);
        System.out.flush();
    }
}
