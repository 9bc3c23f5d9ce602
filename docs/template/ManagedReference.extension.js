// Layered after the "default" and "modern" templates (docfx.json "template"), this file replaces their
// ManagedReference.extension.js, which ManagedReference.html.primary.js calls before and after its transform.

/**
 * Called at the start of the transform of each API page. Drops the "Inherited Members" list: the public types here
 * derive from TorchSharp's Module / Loss classes, whose dozens of members would otherwise open every page. The
 * inheritance chain ("Inheritance") and the type's own members stay.
 */
exports.preTransform = function (model) {
  if (model) {
    delete model.inheritedMembers;
  }
  return model;
}

/**
 * Called at the end of the transform of each API page.
 */
exports.postTransform = function (model) {
  return model;
}
